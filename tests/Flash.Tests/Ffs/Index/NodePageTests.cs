using System.Text;
using Flash.Ffs.Index;

namespace Flash.Tests.Ffs.Index;

/// <summary>
/// A page's packed names stay right through inserts in any order, deletes and renames, with and without the spare
/// room bulk loading leaves in the name run (checked against a model after every step), and trimming leaves exactly
/// the bytes in use.
/// </summary>
public sealed class NodePageTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public void Names_read_back_after_random_inserts_deletes_and_renames(int seed, bool spare)
    {
        var rng = new Random(seed);
        var page = new NodePage(0);
        var model = new SortedDictionary<int, string>();
        for (int step = 0; step < 2000; step++)
        {
            int bit = rng.Next(NodePage.Size);
            string name = $"n{rng.Next(100_000)}" + new string('x', rng.Next(12));
            if (!model.ContainsKey(bit))
            {
                page.Insert(bit, default, Encoding.UTF8.GetBytes(name), spare);
                model[bit] = name;
            }
            else if (rng.Next(3) == 0)
            {
                page.Rename(page.RankOf(bit), Encoding.UTF8.GetBytes(name));
                model[bit] = name;
            }
            else
            {
                page.Delete(bit);
                model.Remove(bit);
            }

            foreach (var (b, expected) in model)
            {
                Assert.Equal(expected, Encoding.UTF8.GetString(page.NameAt(page.RankOf(b))));
            }

            Assert.Equal(model.Values.Sum(n => n.Length), page.NameBytes);
        }

        page.Trim();
        Assert.Equal(page.NameBytes, page.Names.Length);
    }
}
