#pragma warning disable xUnit1051 // the pair API is exercised without tokens on purpose
using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>Caller-held transactions of the pair (claims 57–59), the verified backup copy (claim 36) and the restricted primary (claim 37).</summary>
public class PairTransactionTests
{
    private static RedundantPair NewPair(RailDevice a, RailDevice b, RedundantPairOptions? options = null)
    {
        RedundantPair.Format(a, b);
        return RedundantPair.Mount(a, b, options);
    }

    /// <summary>
    /// Runs a transaction writing one file (and marking the alternate complete when <paramref name="label"/> is given)
    /// while <paramref name="lost"/> loses power right after the primary commit, before the backup.
    /// </summary>
    /// <returns>The transaction id, which is also the sequence the primary commit returned.</returns>
    private static async Task<ulong> CommitLosingAsync(RedundantPair pair, RailDevice lost, string path, byte[] data, PairTransactionOptions? options = null, string? label = null)
    {
        pair.TransactionChanged += (_, e) =>
        {
            if (e.Phase == MirrorTransactionPhase.PrimaryCompleted)
            {
                lost.Inner.CutPower();
            }
        };
        using var txn = await pair.BeginTransactionAsync(options);
        txn.WriteAlternate(path, data);
        if (label is not null)
        {
            txn.MarkAlternateComplete(label);
        }

        var table = await txn.CompletePrimaryAsync();
        Assert.Equal(txn.Id, table.Sequence);
        return txn.Id;
    }

    [Fact]
    public async Task Several_operations_carry_one_id_and_commit_on_both_devices_at_the_primary_completion()
    {
        var (a, b, rail) = PairRig.Create();
        var pair = NewPair(a, b);
        await pair.WriteAlternateAsync("components/old.bin", PairRig.Pattern(900, 1));
        var phases = new List<(ulong, MirrorTransactionPhase)>();
        pair.TransactionChanged += (_, e) => phases.Add((e.TransactionId, e.Phase));

        using var txn = await pair.BeginTransactionAsync();
        Assert.Equal(2UL, txn.Id);
        txn.WriteAlternate("components/cpu.bin", PairRig.Pattern(5000, 2));
        txn.WriteAlternate("components/io.bin", PairRig.Pattern(1200, 3));
        txn.DeleteAlternate("components/old.bin");
        txn.WriteCurrentConfiguration([new("config/node.cfg", PairRig.Pattern(100, 4))]);
        txn.MarkAlternateComplete("v2");
        Assert.Equal(5, txn.OperationCount);

        // The transaction sees its own writes; nobody else does, on either device, before the primary part commits.
        Assert.Equal(PairRig.Pattern(5000, 2), txn.ReadAlternate("components/cpu.bin"));
        Assert.Throws<FlashPathNotFoundException>(() => txn.ReadAlternate("components/old.bin"));
        foreach (var m in pair.Members)
        {
            Assert.Null(await pair.TryReadAsync(m, ContextArea.Area1, "components/cpu.bin"));
            Assert.NotNull(await pair.TryReadAsync(m, ContextArea.Area1, "components/old.bin"));
            Assert.Equal(1UL, m.Table!.Sequence);
        }

        var table = await txn.CompletePrimaryAsync();
        Assert.Equal(PairTransactionState.PrimaryCommitted, txn.State);
        Assert.Equal(2UL, table.Sequence);
        Assert.Equal(ContextState.Valid, table.AlternateState);
        Assert.Equal("v2", table.LabelOf(table.Alternate));
        Assert.Throws<PairTransactionStateException>(() => txn.Abort());
        Assert.Throws<PairTransactionStateException>(() => txn.WriteAlternate("x.bin", [1]));
        txn.Complete();
        Assert.Equal(PairTransactionState.Completed, txn.State);
        Assert.Equal(
            [MirrorTransactionPhase.Started, MirrorTransactionPhase.PrimaryCompleted, MirrorTransactionPhase.BackupCompleted, MirrorTransactionPhase.Completed],
            phases.Where(p => p.Item1 == 2).Select(p => p.Item2));

        foreach (var m in pair.Members)
        {
            Assert.Equal(2UL, m.Table!.Sequence);
            Assert.Equal(PairRig.Pattern(1200, 3), await pair.TryReadAsync(m, ContextArea.Area1, "components/io.bin"));
            Assert.Null(await pair.TryReadAsync(m, ContextArea.Area1, "components/old.bin"));
            Assert.Equal(PairRig.Pattern(100, 4), await pair.TryReadAsync(m, ContextArea.Area0, "config/node.cfg"));
        }

        PairRig.AssertConverged(pair);

        // The gate is free again: an ordinary mirrored change gets the next id.
        await pair.WriteAlternateAsync("components/more.bin", new byte[] { 5 });
        Assert.Equal(3UL, pair.Sequence);
        Assert.Equal(0, rail.Overlaps);
        await pair.DisposeAsync();
    }

    [Fact]
    public async Task Abort_leaves_both_devices_as_they_were_and_ids_stay_monotonic_across_restarts()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        await pair.WriteAlternateAsync("components/c.bin", PairRig.Pattern(700, 1));
        var before = (PairRig.Tree(pair.Primary.Store!.FileSystem), PairRig.Tree(pair.Secondary.Store!.FileSystem));
        long programs = a.Statistics.Capture().PagePrograms + b.Statistics.Capture().PagePrograms;

        var txn = await pair.BeginTransactionAsync();
        txn.WriteAlternate("components/c.bin", PairRig.Pattern(800, 2));
        txn.MarkAlternateComplete("never");
        txn.Abort();
        Assert.Equal(PairTransactionState.Aborted, txn.State);
        txn.Abort(); // idempotent
        await Assert.ThrowsAsync<PairTransactionStateException>(() => txn.CompletePrimaryAsync());
        Assert.Equal(programs, a.Statistics.Capture().PagePrograms + b.Statistics.Capture().PagePrograms);
        Assert.Equal(before.Item1, PairRig.Tree(pair.Primary.Store!.FileSystem));
        Assert.Equal(before.Item2, PairRig.Tree(pair.Secondary.Store!.FileSystem));
        Assert.Equal(1UL, pair.Sequence);

        // An aborted id is not issued again while mounted; committed ids are stored and survive a restart.
        using (var next = await pair.BeginTransactionAsync())
        {
            Assert.Equal(3UL, next.Id);
            next.WriteAlternate("components/d.bin", [1, 2, 3]);
            await next.CompletePrimaryAsync();
        }

        Assert.Equal(3UL, pair.Sequence);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();

        pair = RedundantPair.Mount(b, a);
        using (var after = await pair.BeginTransactionAsync())
        {
            Assert.Equal(4UL, after.Id);
        }

        await pair.WriteAlternateAsync("components/e.bin", new byte[] { 9 });
        Assert.Equal(5UL, pair.Sequence);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();
    }

    [Fact]
    public async Task Bad_staging_and_foreign_handles_are_refused_without_changes()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        var txn = await pair.BeginTransactionAsync();
        Assert.Throws<FlashInvalidPathException>(() => txn.WriteAlternate("../x", [1]));
        Assert.Throws<CurrentContextWriteException>(() => txn.WriteCurrentConfiguration([new("components/x.bin", [1])]));
        Assert.Throws<ContextStateException>(() => txn.MarkAlternateComplete("v"));
        Assert.Throws<FlashPathNotFoundException>(() => txn.DeleteAlternate("missing.bin"));
        Assert.Equal(0, txn.OperationCount);
        Assert.Throws<PairTransactionStateException>(() => txn.Complete());

        // While it is open, other changes wait for the gate.
        var write = pair.WriteAlternateAsync("components/later.bin", new byte[] { 7 });
        await Task.Delay(50);
        Assert.False(write.IsCompleted);
        txn.Dispose();
        await write;
        Assert.Equal(PairTransactionState.Aborted, txn.State);
        Assert.Throws<PairTransactionStateException>(() => txn.Complete());
        Assert.Equal(2UL, pair.Sequence);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();
    }

    [Fact]
    public async Task Backup_is_read_back_from_the_primary_and_a_wrong_copy_is_healed_there()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        var healed = new List<SelfHealEventArgs>();
        pair.SelfHealed += (_, e) => healed.Add(e);
        var checks = new List<string>();
        bool first = true;
        var options = new PairTransactionOptions
        {
            // Refuses the first read-back once, as a check against a digest would refuse a wrong copy on the primary.
            BackupCheck = (area, path, content) =>
            {
                checks.Add(path);
                bool ok = !first || path != "components/cpu.bin";
                first &= ok;
                return ok;
            },
        };
        using (var txn = await pair.BeginTransactionAsync(options))
        {
            txn.WriteAlternate("components/cpu.bin", PairRig.Pattern(4000, 5));
            txn.WriteAlternate("sgc.map", PairRig.Pattern(64, 6));
            await txn.CompletePrimaryAsync();
            Assert.Equal(PairTransactionState.PrimaryCommitted, txn.State);
        }

        Assert.Contains("components/cpu.bin", checks);
        Assert.Contains("sgc.map", checks);
        var heal = Assert.Single(healed);
        Assert.Equal(pair.Primary.DeviceId, heal.DeviceId);
        Assert.Equal("/ctx1/components/cpu.bin", heal.Path);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();
    }

    [Fact]
    public async Task A_copy_that_cannot_be_verified_fails_with_a_specific_error_and_leaves_the_secondary_untouched()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        var options = new PairTransactionOptions { BackupCheck = (_, path, _) => path != "components/bad.bin" };
        var txn = await pair.BeginTransactionAsync(options);
        txn.WriteAlternate("components/good.bin", PairRig.Pattern(1000, 7));
        txn.WriteAlternate("components/bad.bin", PairRig.Pattern(1000, 8));
        var ex = await Assert.ThrowsAsync<BackupVerificationException>(() => txn.CompletePrimaryAsync());
        Assert.Equal(txn.Id, ex.TransactionId);
        Assert.Equal("/ctx1/components/bad.bin", ex.Path);
        Assert.Equal(pair.Primary.DeviceId, ex.DeviceId);
        Assert.Equal(PairTransactionState.BackupFailed, txn.State);
        txn.Complete();

        // The primary part is committed; the secondary kept the old state and is marked for resynchronisation.
        Assert.True(pair.IsDegraded);
        Assert.Equal(txn.Id, pair.Sequence);
        Assert.True(pair.Secondary.Dirty);
        Assert.Null(await pair.TryReadAsync(pair.Secondary, ContextArea.Area1, "components/good.bin"));
        await pair.InvalidateAsync(ContextArea.Area1);
        Assert.True(await pair.ResynchronizeAsync());
        Assert.False(pair.IsDegraded);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();

        // The mark is on flash: a restart before the resync copies from the primary too.
        pair = RedundantPair.Mount(a, b);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();
    }

    [Fact]
    public async Task A_restricted_primary_makes_reads_wait_with_a_bound_during_the_backup()
    {
        var (a, b, rail) = PairRig.Create();
        var pair = NewPair(a, b);
        await InstallCurrentAsync(pair);
        Assert.Same(b, pair.Secondary.Device);
        using var held = await HeldBackup.BeginAsync(pair, restrict: true);
        var txn = held.Transaction;

        var ex = await Assert.ThrowsAsync<PrimaryRestrictedException>(() => pair.ReadCurrentAsync("components/c.bin"));
        Assert.Equal(txn.Id, ex.TransactionId);
        await Assert.ThrowsAsync<PrimaryRestrictedException>(() => pair.TryReadAsync(pair.Primary, ContextArea.Area1, "components/c.bin"));
        // The ranged reads the network servers stream components with wait at the same door.
        await Assert.ThrowsAsync<PrimaryRestrictedException>(() => pair.CurrentLengthAsync("components/c.bin"));
        await Assert.ThrowsAsync<PrimaryRestrictedException>(() => pair.ReadCurrentRangeAsync("components/c.bin", 0, new byte[100]));
        var waiting = pair.ReadCurrentAsync("components/c.bin");
        var range = new byte[100];
        var waitingRange = pair.ReadCurrentRangeAsync("components/c.bin", 100, range);
        await held.ReleaseAsync();
        Assert.Equal(PairRig.Pattern(500, 1), await waiting);
        Assert.Equal(100, await waitingRange);
        Assert.Equal(PairRig.Pattern(500, 1).AsSpan(100, 100).ToArray(), range);
        txn.Complete();
        Assert.Equal(PairRig.Pattern(500, 1), await pair.ReadCurrentAsync("components/c.bin"));
        PairRig.AssertConverged(pair);
        Assert.Equal(0, rail.Overlaps);
        await pair.DisposeAsync();
    }

    [Fact]
    public async Task Without_restriction_reads_of_the_current_context_run_during_the_backup()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        await InstallCurrentAsync(pair);
        using var held = await HeldBackup.BeginAsync(pair, restrict: false);
        Assert.Equal(PairRig.Pattern(500, 1), await pair.ReadCurrentAsync("components/c.bin"));
        await held.ReleaseAsync();
        held.Transaction.Complete();
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();
    }

    [Fact]
    public async Task A_primary_lost_after_its_commit_hands_the_transaction_to_the_survivor()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        // The primary is lost before the backup reads it back.
        ulong id = await CommitLosingAsync(pair, a, "components/x.bin", PairRig.Pattern(2222, 9), new PairTransactionOptions { BackupCheck = (_, _, c) => c.Length == 2222 });

        // The survivor is primary and holds the whole transaction; the old primary held it too.
        Assert.Same(b, pair.Primary.Device);
        Assert.True(pair.IsDegraded);
        Assert.Equal(id, pair.Sequence);
        Assert.Equal(PairRig.Pattern(2222, 9), await pair.ReadAlternateAsync("components/x.bin"));
        pair.Dispose();
        a.Inner.PowerUp();
        var again = RedundantPair.Mount(a, b);
        Assert.Equal(id, again.Sequence);
        PairRig.AssertConverged(again);
        await again.DisposeAsync();
    }

    [Fact]
    public async Task Mount_finishes_a_transaction_whose_primary_part_committed()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        // The secondary never receives the backup.
        ulong id = await CommitLosingAsync(pair, b, "components/y.bin", PairRig.Pattern(3333, 10), label: "v9");

        Assert.True(pair.IsDegraded);
        Assert.Equal(id - 1, pair.Secondary.Table!.Sequence);
        pair.Dispose();
        b.Inner.PowerUp();
        var again = RedundantPair.Mount(b, a);
        Assert.Same(a, again.Primary.Device);
        foreach (var m in again.Members)
        {
            Assert.Equal(id, m.Table!.Sequence);
            Assert.Equal("v9", m.Table.LabelOf(m.Table.Alternate));
            Assert.Equal(PairRig.Pattern(3333, 10), await again.TryReadAsync(m, ContextArea.Area1, "components/y.bin"));
        }

        PairRig.AssertConverged(again);
        await again.DisposeAsync();
    }

    /// <summary>Puts <c>components/c.bin</c> (500 bytes, pattern 1) into the current context as release v1.</summary>
    private static async Task InstallCurrentAsync(RedundantPair pair)
    {
        await pair.WriteAlternateAsync("components/c.bin", PairRig.Pattern(500, 1));
        await pair.MarkAlternateCompleteAsync("v1");
        await pair.SwitchContextsAsync();
    }

    /// <summary>
    /// A transaction writing <c>components/n.bin</c> whose backup phase lasts as long as the test wants: the backup
    /// check blocks until <see cref="ReleaseAsync"/>. <see cref="BeginAsync"/> returns once the backup is under way.
    /// </summary>
    private sealed class HeldBackup : IDisposable
    {
        private readonly ManualResetEventSlim _inBackup = new();
        private readonly ManualResetEventSlim _release = new();
        private Task<ContextTable> _completion = Task.FromResult<ContextTable>(null!);

        public PairTransaction Transaction { get; private set; } = null!;

        public static async Task<HeldBackup> BeginAsync(RedundantPair pair, bool restrict)
        {
            var held = new HeldBackup();
            var options = new PairTransactionOptions
            {
                RestrictPrimaryDuringBackup = restrict,
                RestrictedReadTimeout = restrict ? TimeSpan.FromMilliseconds(200) : new PairTransactionOptions().RestrictedReadTimeout,
                BackupCheck = (_, _, _) =>
                {
                    held._inBackup.Set();
                    return held._release.Wait(TimeSpan.FromSeconds(20));
                },
            };

            held.Transaction = await pair.BeginTransactionAsync(options);
            held.Transaction.WriteAlternate("components/n.bin", PairRig.Pattern(3000, 2));
            var txn = held.Transaction;
            held._completion = Task.Run(() => txn.CompletePrimaryAsync());
            Assert.True(held._inBackup.Wait(TimeSpan.FromSeconds(20)));
            return held;
        }

        public async Task ReleaseAsync()
        {
            _release.Set();
            await _completion;
        }

        public void Dispose()
        {
            // Never leaves a backup blocked; the events stay alive until the completion is over.
            _release.Set();
            if (_completion.IsCompleted)
            {
                _inBackup.Dispose();
                _release.Dispose();
            }
        }
    }
}
