#pragma warning disable xUnit1051 // the gates are exercised without test tokens on purpose
using Flash.Ffs.Mirror;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Tests.Mirror;

/// <summary>The pair's admission gates on their own: read slots, the alternate gate, the restriction of claim 37 and its bound.</summary>
public class PairGatesTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task Read_slots_admit_as_many_reads_as_configured_and_the_next_waits_for_a_release()
    {
        using var gates = new PairGates(2, NullLogger.Instance);
        gates.EnterRead(CancellationToken.None);
        await gates.EnterReadAsync(CancellationToken.None);
        var third = gates.EnterReadAsync(CancellationToken.None);
        await Task.Delay(Soon);
        Assert.False(third.IsCompleted);
        gates.ExitRead();
        await third.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Alternate_gate_admits_one_holder_and_a_cancelled_wait_leaves_it_as_it_was()
    {
        using var gates = new PairGates(1, NullLogger.Instance);
        gates.EnterAlternate(CancellationToken.None);
        var second = gates.EnterAlternateAsync(CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var cancelled = gates.EnterAlternateAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Throws<OperationCanceledException>(() => gates.EnterAlternate(cts.Token));
        Assert.False(second.IsCompleted);
        gates.ExitAlternate();
        await second.WaitAsync(TimeSpan.FromSeconds(10));

        // Held by the second waiter now: a third still waits.
        var third = gates.EnterAlternateAsync(CancellationToken.None);
        await Task.Delay(Soon);
        Assert.False(third.IsCompleted);
    }

    [Fact]
    public async Task Restriction_waits_for_admitted_reads_holds_new_ones_and_lets_them_through_when_lifted()
    {
        using var gates = new PairGates(2, NullLogger.Instance);
        gates.EnterRead(CancellationToken.None);
        var restrict = gates.RestrictAsync(7, TimeSpan.FromSeconds(30));
        await Task.Delay(Soon);
        Assert.True(gates.IsRestricted);
        Assert.False(restrict.IsCompleted); // the admitted read still runs

        var late = gates.EnterReadAsync(CancellationToken.None);
        gates.ExitRead();
        await restrict.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(Soon);
        Assert.False(late.IsCompleted); // restricted: the new read waits at the door

        gates.Unrestrict(7);
        Assert.False(gates.IsRestricted);
        await late.WaitAsync(TimeSpan.FromSeconds(10));
        gates.ExitRead();
    }

    [Fact]
    public async Task A_read_that_outwaits_the_restriction_bound_fails_with_the_transaction_id_in_both_twins()
    {
        using var gates = new PairGates(1, NullLogger.Instance);
        gates.Restrict(42, TimeSpan.FromMilliseconds(50));
        var sync = Assert.Throws<PrimaryRestrictedException>(() => gates.EnterRead(CancellationToken.None));
        Assert.Equal(42UL, sync.TransactionId);
        var async = await Assert.ThrowsAsync<PrimaryRestrictedException>(() => gates.EnterReadAsync(CancellationToken.None));
        Assert.Equal(42UL, async.TransactionId);
        Assert.Equal(TimeSpan.FromMilliseconds(50), async.Waited);

        // Lifting gives every slot back: a read is admitted at once.
        gates.Unrestrict(42);
        gates.EnterRead(CancellationToken.None);
        gates.ExitRead();
    }

    [Fact]
    public void Synchronous_restriction_drains_the_slots_like_the_asynchronous_one()
    {
        using var gates = new PairGates(3, NullLogger.Instance);
        gates.Restrict(1, TimeSpan.FromMilliseconds(20));
        Assert.True(gates.IsRestricted);
        Assert.Throws<PrimaryRestrictedException>(() => gates.EnterRead(CancellationToken.None));
        gates.Unrestrict(1);
        for (int i = 0; i < 3; i++)
        {
            gates.EnterRead(CancellationToken.None);
        }

        Assert.Throws<OperationCanceledException>(() => gates.EnterRead(new CancellationToken(true)));
    }

    [Fact]
    public async Task The_device_lock_admits_one_access_at_a_time()
    {
        using var gates = new PairGates(1, NullLogger.Instance);
        var inside = new TaskCompletionSource();
        var leave = new TaskCompletionSource();
        var first = Task.Factory.StartNew(() =>
        {
            using (gates.Device())
            {
                inside.SetResult();
                leave.Task.Wait();
            }
        }, TaskCreationOptions.LongRunning);
        await inside.Task;
        bool entered = false;
        var second = Task.Factory.StartNew(() =>
        {
            using (gates.Device())
            {
                entered = true;
            }
        }, TaskCreationOptions.LongRunning);
        await Task.Delay(Soon);
        Assert.False(Volatile.Read(ref entered));
        leave.SetResult();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(entered);
        Assert.Throws<OperationCanceledException>(() => gates.Device(new CancellationToken(true)));
    }
}
