#pragma warning disable xUnit1051 // the pair API is exercised without tokens on purpose
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>The synchronous twins of the pair's methods: the same results as the asynchronous ones, and the same gates.</summary>
public class RedundantPairSyncTwinTests
{
    private static RedundantPair NewPair(RailDevice a, RailDevice b)
    {
        RedundantPair.Format(a, b);
        var pair = RedundantPair.Mount(a, b);
        pair.WriteAlternate("components/c.bin", PairRig.Pattern(5000, 1));
        pair.MarkAlternateComplete("v1");
        pair.SwitchContexts();
        pair.WriteAlternate("components/alt.bin", PairRig.Pattern(800, 2));
        return pair;
    }

    [Fact]
    public async Task Reads_give_what_their_asynchronous_twins_give()
    {
        var (a, b, rail) = PairRig.Create();
        using var pair = NewPair(a, b);

        Assert.Equal(await pair.ReadCurrentAsync("components/c.bin"), pair.ReadCurrent("components/c.bin"));
        Assert.Equal(await pair.ListCurrentAsync(), pair.ListCurrent());
        Assert.Equal(await pair.ReadAlternateAsync("components/alt.bin"), pair.ReadAlternate("components/alt.bin"));
        Assert.Equal(await pair.ListAlternateAsync(), pair.ListAlternate());
        Assert.Equal(5000, pair.CurrentLength("components/c.bin"));
        foreach (var m in pair.Members)
        {
            Assert.Equal(await pair.TryReadAsync(m, pair.Table.Current, "components/c.bin"), pair.TryRead(m, pair.Table.Current, "components/c.bin"));
            Assert.Null(pair.TryRead(m, pair.Table.Current, "components/none.bin"));
            Assert.Equal(await pair.ListAsync(m, pair.Table.Alternate), pair.List(m, pair.Table.Alternate));
        }

        Span<byte> range = stackalloc byte[700];
        Assert.Equal(700, pair.ReadCurrentRange("components/c.bin", 4000, range));
        Assert.True(range.SequenceEqual(PairRig.Pattern(5000, 1).AsSpan(4000, 700)));
        Assert.Equal(300, pair.ReadCurrentRange("components/c.bin", 4700, range));
        Assert.Equal(0, pair.ReadCurrentRange("components/c.bin", 6000, range));
        Assert.Throws<ArgumentOutOfRangeException>(() => pair.ReadCurrentRange("components/c.bin", -1, new byte[1]));
        Assert.Equal(0, rail.Overlaps);
    }

    [Fact]
    public void A_caller_held_transaction_runs_through_the_synchronous_twins()
    {
        var (a, b, _) = PairRig.Create();
        using var pair = NewPair(a, b);
        ulong id;
        using (var txn = pair.BeginTransaction())
        {
            id = txn.Id;
            txn.WriteAlternate("components/n.bin", PairRig.Pattern(1200, 3));
            txn.DeleteAlternate("components/alt.bin");
            Assert.Equal(PairRig.Pattern(1200, 3), txn.ReadAlternate("components/n.bin"));
            Assert.Throws<Flash.Ffs.FlashPathNotFoundException>(() => txn.ReadAlternate("components/alt.bin"));
            Assert.Throws<Flash.Ffs.FlashPathNotFoundException>(() => txn.DeleteAlternate("components/none.bin"));
            var table = txn.CompletePrimary();
            Assert.Equal(id, table.Sequence);
            Assert.Throws<PairTransactionStateException>(() => txn.Abort());
        }

        // Disposing completed it and released the gate: a change goes through, on both devices.
        pair.MarkAlternateComplete("v2");
        PairRig.AssertConverged(pair);
        Assert.Equal(id + 1, pair.Sequence);

        using (var aborted = pair.BeginTransaction())
        {
            aborted.WriteAlternate("components/x.bin", [1]);
        }

        Assert.Null(pair.TryRead(pair.Primary, pair.Table.Alternate, "components/x.bin"));
    }

    [Fact]
    public async Task A_restricting_backup_holds_synchronous_reads_and_lets_them_through_when_it_ends()
    {
        var (a, b, rail) = PairRig.Create();
        using var pair = NewPair(a, b);
        using var inBackup = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var options = new PairTransactionOptions
        {
            RestrictPrimaryDuringBackup = true,
            RestrictedReadTimeout = TimeSpan.FromMilliseconds(500),
            BackupCheck = (_, _, _) =>
            {
                inBackup.Set();
                return release.Wait(TimeSpan.FromSeconds(20));
            },
        };
        var txn = pair.BeginTransaction(options);
        txn.WriteAlternate("components/n.bin", PairRig.Pattern(3000, 4));
        var complete = Task.Factory.StartNew(() => txn.CompletePrimary(), TaskCreationOptions.LongRunning);
        Assert.True(inBackup.Wait(TimeSpan.FromSeconds(20)));

        var ex = Assert.Throws<PrimaryRestrictedException>(() => pair.ReadCurrent("components/c.bin"));
        Assert.Equal(txn.Id, ex.TransactionId);
        Assert.Throws<PrimaryRestrictedException>(() => pair.CurrentLength("components/c.bin"));
        Assert.Throws<PrimaryRestrictedException>(() => pair.ReadCurrentRange("components/c.bin", 0, new byte[10]));
        Assert.Throws<PrimaryRestrictedException>(() => pair.TryRead(pair.Primary, ContextArea.Area1, "components/c.bin"));

        using var started = new ManualResetEventSlim();
        var waiting = Task.Factory.StartNew(() =>
        {
            started.Set();
            return pair.ReadCurrent("components/c.bin");
        }, TaskCreationOptions.LongRunning);
        Assert.True(started.Wait(TimeSpan.FromSeconds(20)));
        release.Set();
        await complete.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(PairRig.Pattern(5000, 1), await waiting.WaitAsync(TimeSpan.FromSeconds(20)));
        txn.Complete();
        PairRig.AssertConverged(pair);
        Assert.Equal(0, rail.Overlaps);
    }
}
