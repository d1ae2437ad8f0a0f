#pragma warning disable xUnit1051 // the pair API is exercised without tokens on purpose
using Flash.Ffs;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>A file of the alternate context written in slices by caller-held transactions: mirrored range by range, read back in ranges.</summary>
public class PairRangedWriteTests
{
    [Fact]
    public void Slices_committed_with_a_record_are_mirrored_and_read_back_in_ranges()
    {
        var (a, b, rail) = PairRig.Create();
        RedundantPair.Format(a, b);
        using var pair = RedundantPair.Mount(a, b);
        var content = PairRig.Pattern(50_000, 3);
        long primaryReads = 0;
        for (int at = 0, i = 0; at < content.Length; at += 16_384, i++)
        {
            int n = Math.Min(16_384, content.Length - at);
            using (var txn = pair.BeginTransaction())
            {
                txn.WriteAlternateAt("components/big.bin", at, content.AsSpan(at, n));
                txn.WriteAlternate("install/state", [(byte)i]);
                Assert.Equal(content.AsSpan(0, at + n).ToArray(), txn.ReadAlternate("components/big.bin"));
                Assert.Throws<ArgumentException>(() => txn.WriteAlternate("components/big.bin", [1]));
                Assert.Throws<ArgumentException>(() => txn.WriteAlternateAt("components/big.bin", 0, [1]));
                long before = pair.Primary.Device.Statistics.Capture().PageReads;
                txn.CompletePrimary();
                primaryReads += pair.Primary.Device.Statistics.Capture().PageReads - before;
            }

            Assert.Equal(at + n, pair.AlternateLength("components/big.bin"));
            PairRig.AssertConverged(pair);
        }

        // The read-back of each range reads about that range from the primary, not the whole file each time.
        Assert.True(primaryReads < 2 * content.Length / PairRig.Small.PageSize, $"{primaryReads} page reads for {content.Length} bytes in slices");
        Assert.Equal(content, pair.ReadAlternate("components/big.bin"));
        var range = new byte[7000];
        Assert.Equal(7000, pair.ReadAlternateRange("components/big.bin", 20_000, range));
        Assert.Equal(content.AsSpan(20_000, 7000).ToArray(), range);
        Assert.Equal(0, pair.ReadAlternateRange("components/big.bin", 50_000, range));
        Assert.Equal(-1, pair.AlternateLength("components/none.bin"));
        Assert.Equal(0, rail.Overlaps);
    }

    [Fact]
    public void A_range_past_the_end_fails_before_either_device_changes()
    {
        var (a, b, _) = PairRig.Create();
        RedundantPair.Format(a, b);
        using var pair = RedundantPair.Mount(a, b);
        pair.WriteAlternate("components/f.bin", PairRig.Pattern(1000, 1));
        var table = pair.Table;
        using (var txn = pair.BeginTransaction())
        {
            txn.WriteAlternateAt("components/f.bin", 1001, [1]);
            txn.WriteAlternate("install/state", [1]);
            Assert.Throws<FlashWriteRangeException>(() => txn.CompletePrimary());
        }

        Assert.Equal(table, pair.Table);
        Assert.Equal(PairRig.Pattern(1000, 1), pair.ReadAlternate("components/f.bin"));
        Assert.DoesNotContain("install/state", pair.ListAlternate());
        PairRig.AssertConverged(pair);
    }
}
