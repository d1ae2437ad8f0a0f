using Flash.Ffs;
using Flash.Ffs.Recovery;

namespace Flash.Tests.Ffs.Recovery;

/// <summary>When a mount after a power cut must write a checkpoint: only when a second replay could not repeat the first.</summary>
public class MountCheckpointPolicyTests
{
    [Fact]
    public void A_replay_that_applied_everything_needs_no_checkpoint()
        => Assert.Null(MountCheckpointPolicy.Reason(new MountReport(true, 12, [], null, []), openTransactionsListed: false));

    [Fact]
    public void Damaged_pages_need_a_checkpoint()
        => Assert.Equal("the replay met damaged pages", MountCheckpointPolicy.Reason(new MountReport(true, 12, [40], null, []), openTransactionsListed: false));

    [Fact]
    public void A_replay_that_stopped_early_needs_a_checkpoint()
    {
        Assert.Equal("the replay stopped before the end of the log", MountCheckpointPolicy.Reason(new MountReport(true, 12, [], 77, []), openTransactionsListed: false));
        Assert.Equal("the replay stopped before the end of the log", MountCheckpointPolicy.Reason(new MountReport(true, 12, [], null, ["transaction 3"]), openTransactionsListed: false));
    }

    [Fact]
    public void Open_transactions_in_the_mounted_checkpoint_need_a_checkpoint()
        => Assert.Equal("the checkpoint lists open transactions", MountCheckpointPolicy.Reason(new MountReport(true, 12, [], null, []), openTransactionsListed: true));
}
