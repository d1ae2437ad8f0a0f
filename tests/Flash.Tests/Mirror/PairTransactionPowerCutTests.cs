#pragma warning disable xUnit1051 // sweeps run to completion
using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>
/// A power cut at every device mutation of a caller-held transaction, node-wide (both devices) and per device (only the
/// device performing the mutation; the other goes on): after power-up and mount both devices hold the whole
/// transaction or none of it, and reconciliation finishes a transaction whose primary part committed.
/// </summary>
public class PairTransactionPowerCutTests
{
    private static async Task RunAsync(RedundantPair p)
    {
        using var txn = await p.BeginTransactionAsync(new PairTransactionOptions { RestrictPrimaryDuringBackup = true });
        txn.WriteAlternate("components/a.bin", PairRig.Pattern(3000, 11));
        txn.WriteAlternate("components/b.bin", PairRig.Pattern(2500, 12));
        txn.DeleteAlternate("components/old.bin");
        txn.WriteCurrentConfiguration([new("config/node.cfg", PairRig.Pattern(200, 13))]);
        txn.MarkAlternateComplete("v2");
        await txn.CompletePrimaryAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Power_cut_at_every_mutation_leaves_the_whole_transaction_or_none(bool oneDevice)
    {
        var (a, b, _) = PairRig.Create();
        RedundantPair.Format(a, b);
        var pair = RedundantPair.Mount(a, b);
        await pair.WriteAlternateAsync([new("components/old.bin", PairRig.Pattern(1000, 1)), new("components/a.bin", PairRig.Pattern(900, 2))]);
        await pair.MarkAlternateCompleteAsync("v1");
        await pair.DisposeAsync();
        var snapA = a.Inner.Snapshot();
        var snapB = b.Inner.Snapshot();

        // Dry run: the old and the new state, and how many mutations the transaction makes.
        var (da, db, drail) = PairRig.Restore(snapA, snapB);
        var dp = RedundantPair.Mount(da, db);
        var oldTree = PairRig.Tree(dp.Primary.Store!.FileSystem);
        var oldTable = dp.Table;
        long start = drail.Mutations;
        await RunAsync(dp);
        long count = drail.Mutations - start;
        var newTree = PairRig.Tree(dp.Primary.Store!.FileSystem);
        var newTable = dp.Table;
        await dp.DisposeAsync();
        Assert.True(count > 4, $"the transaction must write on both devices ({count})");

        for (long k = 1; k <= count; k++)
        {
            var (ra, rb, r) = PairRig.Restore(snapA, snapB);
            r.CutOneDevice = oneDevice;
            var p = RedundantPair.Mount(ra, rb);
            r.CutAt = r.Mutations + k;
            try
            {
                await RunAsync(p);
            }
            catch (Exception ex) when (ex is FlashException or FlashFileSystemException or ObjectDisposedException)
            {
                Assert.False(oneDevice, $"cut {k}/{count} of one device must not fail the transaction: {ex.Message}");
            }

            Assert.True(r.Tripped, $"cut {k}/{count} did not happen");
            if (oneDevice)
            {
                // The other device carried on: the transaction is in effect on the pair that kept running.
                Assert.Equal(newTable.Sequence, p.Sequence);
                Assert.True(p.IsDegraded);
            }

            p.Dispose();
            r.PowerUp();
            var again = RedundantPair.Mount(ra, rb);
            var tree = PairRig.Tree(again.Primary.Store!.FileSystem);
            bool isNew = again.Table.Sequence == newTable.Sequence;
            Assert.True(isNew || again.Table.Sequence == oldTable.Sequence, $"cut {k}/{count}: {again.Table}");
            Assert.True(!oneDevice || isNew, $"cut {k}/{count} of one device lost the transaction");
            AssertSameContent(isNew ? newTree : oldTree, tree, $"cut {k}/{count}");
            Assert.Equal((isNew ? newTable : oldTable) with { Generation = 0 }, again.Table with { Generation = 0 });
            PairRig.AssertConverged(again);
            Assert.Equal(0, r.Overlaps);
            await again.DisposeAsync();
        }

        PowerLoss.PowerCutReport.AddWorkload(oneDevice ? "pair-txn-one-device" : "pair-txn-node", count, 0);
    }

    /// <summary>The files of both areas (the table copies carry generations, which may differ by a reconciliation).</summary>
    private static void AssertSameContent(SortedDictionary<string, byte[]> expected, SortedDictionary<string, byte[]> actual, string what)
    {
        static IEnumerable<KeyValuePair<string, byte[]>> Files(SortedDictionary<string, byte[]> t) => t.Where(e => !e.Key.StartsWith(ContextLayout.SystemDirectory, StringComparison.Ordinal));
        Assert.True(Files(expected).Select(e => e.Key).SequenceEqual(Files(actual).Select(e => e.Key)), $"{what}: the files differ");
        foreach (var (path, data) in Files(expected))
        {
            Assert.True(data.AsSpan().SequenceEqual(actual[path]), $"{what}: {path} differs");
        }
    }
}
