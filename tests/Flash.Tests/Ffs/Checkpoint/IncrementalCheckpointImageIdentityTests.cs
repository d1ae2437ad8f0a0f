using System.Security.Cryptography;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Xunit;

namespace Flash.Tests.Ffs.Checkpoint;

/// <summary>
/// Heavier fixed histories than <see cref="ImageIdentityTests"/>: handles held across operations while incremental
/// checkpoints are written in small slices, with truncations, renames, deletes and garbage collection, at three
/// checkpoint intervals and budgets. The SHA-256 of each final image (and the device's mutation count) was recorded
/// on main before the index observer replaced the copy-on-write hooks: the order in which the incremental checkpoint
/// writes entries ahead of their turn, and so every byte, must stay the same.
/// </summary>
public sealed class IncrementalCheckpointImageIdentityTests(ITestOutputHelper output)
{
    private static readonly string[] s_recorded =
    [
        "2/2/1 A515531DA6DB8E0F415A561A45F40BF9A5801DC835D2C19D9673EC77D8E453AD:6349",
        "2/2/2 2FC3BFAD7F86D2B3FECDD67BEEC29647EF05A0B474429B650E6002023FB126F4:6196",
        "2/2/3 D3AE816411D5781E4C5C763088F3FB0AE5F10908C2A9686E385186F357651199:6201",
        "2/2/4 CC97F420C866F8FF6A8808CBDCB8CB56C85F1484D9B740337692EFAD3DDC837C:6312",
        "1/4/1 6098A8BB28302EB6603D6B76FFB13A92B431183CEA8F8B60E7880298B07A20A1:7248",
        "1/4/2 A70B2FFA75A0AE0DE307A93936503BF6DECE4E1D0FAF868CDF7F62C7EFB275EA:7101",
        "1/4/3 2E3DEF901AD6A16694E85CFC10CDF48115D3BD446468F854F7AFF69EE2D523A0:7092",
        "1/4/4 F08AA0767EB21EF9ACB000F2D35D3437807EBE2BBCBFE8AAF3A6B7B79FCA36F2:7293",
        "4/8/1 4FBD65537771BFF9E95F21E005869049BFFBF52D54ADF81677F9F28F018DF165:6016",
        "4/8/2 5685D2527B7A8C73847060B2FA533A908382682E2C0AA0835B30CACB2F30083B:5855",
        "4/8/3 E9B388C9B54D3FA0932D4861B978293FCFE6133262263FE58843383CCD99EF71:5919",
        "4/8/4 301FEAE8D62D5F5F53FE1EAF673B73B32C8E7EEA9FD9DEE16D7E8B923DAA7FC2:5978",
    ];

    [Fact]
    public void Fixed_histories_over_open_handles_give_the_recorded_images()
    {
        var lines = new List<string>();
        foreach (var (interval, budget) in new[] { (2, 2), (1, 4), (4, 8) })
        {
            for (int seed = 1; seed <= 4; seed++)
            {
                using var dev = FfsTestDevice.Create(seed: (ulong)seed);
                var options = new FlashFileSystemOptions { CheckpointIntervalBlocks = interval, MaxForegroundPagesPerOperation = budget };
                var fs = FfsTestDevice.FormatAndMount(dev, options);
                var rng = new Random(seed);
                var held = new Dictionary<string, FlashFile>();
                fs.CreateDirectory("/a"); fs.CreateDirectory("/b");
                for (int i = 0; i < 200; i++) fs.WriteAllBytes($"/a/s{i}", FfsTestDevice.Pattern(30, i));
                for (int i = 0; i < 1500; i++)
                {
                    string p = $"/{(rng.Next(2) == 0 ? "a" : "b")}/f{rng.Next(12)}";
                    int c = rng.Next(100);
                    if (held.TryGetValue(p, out var h))
                    {
                        if (c < 60) { h.Position = rng.Next((int)h.Length + 1); h.Write(FfsTestDevice.Pattern(rng.Next(10, 5000), i)); if (c < 20) h.SetLength(rng.Next((int)h.Length + 1)); }
                        else { h.Dispose(); held.Remove(p); }
                    }
                    else if (c < 35 || !fs.Exists(p)) fs.WriteAllBytes(p, FfsTestDevice.Pattern(rng.Next(3) == 0 ? rng.Next(1, 250) : rng.Next(2048, 20000), i));
                    else if (c < 55 && held.Count < 4) { var f = fs.Open(p, FlashFileMode.Open); held[p] = f; f.Position = rng.Next((int)f.Length + 1); f.Write(FfsTestDevice.Pattern(rng.Next(10, 3000), i)); }
                    else if (c < 65) { using var f = fs.Open(p, FlashFileMode.Open); f.SetLength(rng.Next((int)f.Length + 1)); }
                    else if (c < 78) { string to = $"/{(rng.Next(2) == 0 ? "a" : "b")}/f{rng.Next(12)}"; if (!held.ContainsKey(to)) fs.Rename(p, to, replace: true); }
                    else if (c < 90) fs.Delete(p);
                    else fs.WriteAllBytes($"/a/s{rng.Next(200)}", FfsTestDevice.Pattern(rng.Next(5, 200), i));
                    if (i % 101 == 0) fs.Maintain(new MaintenanceBudget(MaxPages: 6));
                }

                foreach (var h in held.Values) h.Dispose();
                fs.Unmount();
                using var image = new MemoryStream();
                dev.SaveImage(image);
                lines.Add($"{interval}/{budget}/{seed} {Convert.ToHexString(SHA256.HashData(image.ToArray()))}:{dev.MutationCount}");
            }
        }

        output.WriteLine(string.Join("\n", lines));
        Assert.Equal(s_recorded, lines);
    }
}
