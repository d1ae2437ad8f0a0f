using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs.Blocks;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Tests.Ffs.Blocks;

/// <summary>
/// The block pool on its own over a simulated device: free-block choice, reservations, erase and the erase check,
/// retirement and bad blocks, the callbacks it makes, and the free count kept equal to the number of free blocks.
/// </summary>
public sealed class BlockPoolTests
{
    private const int Blocks = 16;
    private const int PagesPerBlock = 8;

    private static (BlockPool Pool, FlashSimulator Device, Callbacks Calls) Formatted(IReadOnlyList<int>? factoryBad = null)
    {
        var options = new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, PagesPerBlock, Blocks), Seed = 7, FactoryBadBlocks = factoryBad ?? [] };
        var device = FlashSimulator.Create(options);
        var calls = new Callbacks();
        var pool = new BlockPool(device, NullLogger.Instance, calls);
        for (int b = 0; b < Blocks; b++)
        {
            pool.Format(b);
        }

        return (pool, device, calls);
    }

    [Fact]
    public void Format_erases_every_good_block_into_the_pool_and_takes_factory_bad_ones_out()
    {
        var (pool, device, _) = Formatted(factoryBad: [3, 9]);

        Assert.Equal(Blocks - 2, pool.FreeCount);
        Assert.Equal(BlockState.Bad, pool.Table.State[3]);
        Assert.Equal(BlockState.Bad, pool.Table.State[9]);
        Assert.Equal(Blocks - 2, pool.GoodBlocks);
        for (int b = 0; b < Blocks; b++)
        {
            bool good = b is not (3 or 9);
            Assert.Equal(good, pool.Table.Erased[b]);
            Assert.Equal(good ? 1u : 0u, pool.Table.EraseCount[b]);
        }

        Assert.Equal(Blocks - 2, device.Statistics.BlockErases);
        AssertFreeCountInvariant(pool);
    }

    [Fact]
    public void Pick_takes_the_least_worn_block_for_new_writes_and_the_most_worn_below_the_maximum_for_cold_data()
    {
        var (pool, _, _) = Formatted();
        SetEraseCounts(pool, b => (uint)(10 + b));
        pool.Table.EraseCount[5] = 2;
        pool.Table.EraseCount[12] = 40;

        Assert.Equal(5, pool.PickFree(mostWorn: false));

        // The cold head avoids setting a new maximum: block 12 (40) is the maximum, the next is block 15 (25).
        Assert.Equal(15, pool.PickFree(mostWorn: true));
    }

    [Fact]
    public void Pick_prefers_an_erased_block_among_equally_worn_ones()
    {
        var (pool, _, _) = Formatted();
        SetEraseCounts(pool, _ => 4);
        pool.DistrustErased(0);
        pool.DistrustErased(1);

        Assert.Equal(2, pool.PickFree(mostWorn: false));
    }

    [Fact]
    public void Reserved_blocks_are_skipped_until_nothing_else_is_left_and_then_lose_their_reservation()
    {
        var (pool, _, _) = Formatted();
        pool.Reservations.Hot = 0;
        pool.Reservations.Cold = 1;
        pool.Reservations.Checkpoint = 2;

        Assert.Equal(3, pool.PickFree(mostWorn: false));
        Assert.Equal(0, pool.PickFree(mostWorn: false, ignoreReservations: true));
        for (int b = 3; b < Blocks; b++)
        {
            pool.Open(b, lastSequence: (ulong)b);
        }

        Assert.Equal(-1, pool.PickFree(mostWorn: false));
        int taken = pool.PickFreeOrReserved(mostWorn: false);
        Assert.Equal(0, taken);
        Assert.Equal(-1, pool.Reservations.Hot);
        Assert.Equal(1, pool.Reservations.Cold);
        Assert.Equal(2, pool.Reservations.Checkpoint);
        AssertFreeCountInvariant(pool);
    }

    [Fact]
    public void Reservable_blocks_are_erased_free_unreserved_and_not_excluded()
    {
        var (pool, _, _) = Formatted();
        SetEraseCounts(pool, b => (uint)(100 - b));
        pool.Reservations.Hot = 15;
        pool.DistrustErased(14);

        Assert.Equal(13, pool.PickReservable(mostWorn: false, exclude: -1));
        Assert.Equal(12, pool.PickReservable(mostWorn: false, exclude: 13));
        Assert.Equal(0, pool.PickReservable(mostWorn: true, exclude: -1));
    }

    [Fact]
    public void Opening_clears_the_block_and_records_its_first_sequence_number()
    {
        var (pool, _, _) = Formatted();
        pool.Open(4, lastSequence: 41);

        Assert.Equal(BlockState.Open, pool.Table.State[4]);
        Assert.False(pool.Table.Erased[4]);
        Assert.Equal(42ul, pool.Table.FirstSequence[4]);
        Assert.Equal(41ul, pool.Table.LastSequence[4]);
        Assert.Equal(Blocks - 1, pool.FreeCount);

        pool.CloseIfOpen(4);
        Assert.Equal(BlockState.Full, pool.Table.State[4]);
        pool.CloseIfOpen(4);
        Assert.Equal(BlockState.Full, pool.Table.State[4]);
        AssertFreeCountInvariant(pool);
    }

    [Fact]
    public void A_block_returned_to_the_pool_is_erased_only_before_its_next_use()
    {
        var (pool, device, _) = Formatted();
        pool.Open(6, lastSequence: 0);
        pool.Table.SetValid(6 * PagesPerBlock);
        pool.CloseIfOpen(6);
        pool.Table.ClearValid(6 * PagesPerBlock);
        long erases = device.Statistics.BlockErases;

        pool.ReturnToPool(6);
        Assert.Equal(BlockState.Free, pool.Table.State[6]);
        Assert.False(pool.Table.Erased[6]);
        Assert.Equal(erases, device.Statistics.BlockErases);

        Assert.True(pool.EnsureErased(6));
        Assert.Equal(erases + 1, device.Statistics.BlockErases);
        Assert.Equal(2u, pool.Table.EraseCount[6]);
        Assert.True(pool.EnsureErased(6));
        Assert.Equal(erases + 1, device.Statistics.BlockErases);
        AssertFreeCountInvariant(pool);
    }

    [Fact]
    public void Reclaiming_empty_blocks_asks_the_policy_and_reports_each_block_it_returned()
    {
        var (pool, _, calls) = Formatted();
        for (int b = 0; b < 4; b++)
        {
            pool.Open(b, lastSequence: 0);
            pool.CloseIfOpen(b);
        }

        pool.Table.SetValid(1 * PagesPerBlock);
        calls.Refused.Add(2);

        pool.ReclaimEmptyBlocks(calls);

        Assert.Equal([0, 3], calls.Reclaimed);
        Assert.Equal(BlockState.Full, pool.Table.State[1]);
        Assert.Equal(BlockState.Full, pool.Table.State[2]);
        Assert.Equal(BlockState.Free, pool.Table.State[0]);
        AssertFreeCountInvariant(pool);
    }

    [Fact]
    public void A_failed_erase_marks_the_block_bad_in_the_table_and_on_the_chip()
    {
        var (pool, device, calls) = Formatted();
        pool.DistrustErased(5);
        device.ScheduleEraseFailure(5);

        Assert.False(pool.EnsureErased(5));

        Assert.Equal(BlockState.Bad, pool.Table.State[5]);
        Assert.True(device.IsBad(5));
        Assert.Equal([5], calls.MarkedBad);
        Assert.Equal(Blocks - 1, pool.GoodBlocks);
        Assert.Equal(Blocks - 1, pool.FreeCount);
        Assert.NotEqual(5, pool.PickFree(mostWorn: false, ignoreReservations: true));
        AssertFreeCountInvariant(pool);
    }

    [Fact]
    public void Retiring_a_block_reports_it_and_leaves_it_out_of_the_good_count_until_it_is_marked_bad()
    {
        var (pool, device, calls) = Formatted();
        pool.Open(7, lastSequence: 0);
        pool.Table.SetValid(7 * PagesPerBlock);

        pool.Retire(7);

        Assert.Equal(BlockState.Retiring, pool.Table.State[7]);
        Assert.Equal([7], calls.Retired);
        Assert.Equal(Blocks - 1, pool.GoodBlocks);
        Assert.False(device.IsBad(7));

        pool.MarkBad(7);
        Assert.Equal(BlockState.Bad, pool.Table.State[7]);
        Assert.Equal(0, pool.Table.Valid[7]);
        Assert.True(device.IsBad(7));
        Assert.Equal([7], calls.MarkedBad);
    }

    [Fact]
    public void An_illegal_transition_throws_and_changes_nothing()
    {
        var (pool, _, calls) = Formatted();
        pool.MarkBad(3);

        var open = Assert.Throws<IllegalBlockTransitionException>(() => pool.Open(3, lastSequence: 0));
        Assert.Equal(BlockState.Bad, open.From);
        Assert.Throws<IllegalBlockTransitionException>(() => pool.ReturnToPool(4));
        Assert.Throws<IllegalBlockTransitionException>(() => pool.Retire(4));

        Assert.Equal(BlockState.Bad, pool.Table.State[3]);
        Assert.Equal(BlockState.Free, pool.Table.State[4]);
        Assert.Empty(calls.Retired);
        AssertFreeCountInvariant(pool);
    }

    [Fact]
    public void Checkpoint_blocks_are_claimed_released_reinstated_and_abandoned_through_the_checked_transitions()
    {
        var (pool, _, _) = Formatted();
        pool.ClaimForCheckpoint(8);
        pool.ClaimForCheckpoint(9);
        Assert.Equal(BlockState.Checkpoint, pool.Table.State[8]);
        Assert.False(pool.Table.Erased[8]);

        pool.ReleaseCheckpointBlock(8);
        Assert.Equal(BlockState.Free, pool.Table.State[8]);
        pool.ReinstateCheckpointBlock(8);
        Assert.Equal(BlockState.Checkpoint, pool.Table.State[8]);

        pool.AbandonCheckpointBlock(9, lastSequence: 77);
        Assert.Equal(BlockState.Full, pool.Table.State[9]);
        Assert.Equal(77ul, pool.Table.LastSequence[9]);
        AssertFreeCountInvariant(pool);
    }

    [Fact]
    public void Recovery_marks_blocks_written_since_the_checkpoint_full_and_counts_the_erase_they_must_have_had()
    {
        var (pool, _, _) = Formatted();
        pool.DistrustErased(10);
        pool.WrittenSinceCheckpoint(10, first: 100, last: 107);
        pool.WrittenSinceCheckpoint(11, first: 108, last: 110);

        Assert.Equal(BlockState.Full, pool.Table.State[10]);
        Assert.Equal(2u, pool.Table.EraseCount[10]);
        Assert.Equal(1u, pool.Table.EraseCount[11]);
        Assert.Equal(100ul, pool.Table.FirstSequence[10]);
        Assert.Equal(110ul, pool.Table.LastSequence[11]);

        pool.DistrustErasedFreeBlocks();
        Assert.False(pool.Table.Erased[0]);
        AssertFreeCountInvariant(pool);
    }

    [Fact]
    public void The_erase_check_reads_a_block_this_mount_did_not_erase_and_refuses_one_holding_data()
    {
        var options = new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, PagesPerBlock, Blocks), Seed = 7 };
        var device = FlashSimulator.Create(options);
        var data = new byte[2048];
        var spare = new byte[64];
        spare.AsSpan().Fill(0xFF);
        device.Program(2 * PagesPerBlock, data, spare);

        // A pool that erased nothing itself, as after a mount: block 2 holds data, block 3 is erased.
        var calls = new Callbacks();
        var pool = new BlockPool(device, NullLogger.Instance, calls);
        long reads = device.Statistics.PageReads;
        Assert.False(pool.ReadyToProgram(2, 2 * PagesPerBlock, inherited: false));
        Assert.Equal(1, pool.NotErasedFound);
        Assert.True(pool.ReadyToProgram(3, 3 * PagesPerBlock, inherited: false));
        Assert.True(device.Statistics.PageReads > reads);

        // Later pages of a fresh block, and any page of a block erased here, need no read.
        reads = device.Statistics.PageReads;
        Assert.True(pool.ReadyToProgram(3, (3 * PagesPerBlock) + 1, inherited: false));
        Assert.True(pool.Erase(2));
        Assert.True(pool.ReadyToProgram(2, 2 * PagesPerBlock, inherited: true));
        Assert.Equal(reads, device.Statistics.PageReads);
    }

    [Fact]
    public void The_free_count_equals_the_number_of_free_blocks_through_a_random_sequence_of_operations()
    {
        var (pool, device, _) = Formatted();
        var random = new Random(18);
        ulong seq = 0;
        for (int step = 0; step < 2000; step++)
        {
            int b = random.Next(Blocks);
            var state = pool.Table.State[b];
            switch (random.Next(6))
            {
                case 0 when state == BlockState.Free && pool.EnsureErased(b) && pool.Table.State[b] == BlockState.Free:
                    pool.Open(b, seq);
                    seq += PagesPerBlock;
                    break;
                case 1 when state == BlockState.Open:
                    pool.CloseIfOpen(b);
                    break;
                case 2 when state == BlockState.Full:
                    pool.ReturnToPool(b);
                    break;
                case 3 when state == BlockState.Free:
                    pool.ClaimForCheckpoint(b);
                    break;
                case 4 when state == BlockState.Checkpoint:
                    pool.ReleaseCheckpointBlock(b);
                    break;
                case 5 when state is BlockState.Open or BlockState.Full && random.Next(100) == 0:
                    pool.Retire(b);
                    break;
                default:
                    break;
            }

            AssertFreeCountInvariant(pool);
        }

        Assert.True(device.Statistics.BlockErases > Blocks);
    }

    private static void SetEraseCounts(BlockPool pool, Func<int, uint> count)
    {
        for (int b = 0; b < Blocks; b++)
        {
            pool.Table.EraseCount[b] = count(b);
        }
    }

    private static void AssertFreeCountInvariant(BlockPool pool)
    {
        int free = 0;
        for (int b = 0; b < pool.Table.Count; b++)
        {
            free += pool.Table.State[b] == BlockState.Free ? 1 : 0;
        }

        Assert.Equal(free, pool.FreeCount);
    }

    /// <summary>Records what the pool reports; refuses to reclaim the blocks listed in <see cref="Refused"/>.</summary>
    private sealed class Callbacks : IBlockRetirementSink, IReclaimPolicy
    {
        public List<int> Retired { get; } = [];

        public List<int> MarkedBad { get; } = [];

        public List<int> Reclaimed { get; } = [];

        public HashSet<int> Refused { get; } = [];

        public void BlockRetired(int block) => Retired.Add(block);

        public void BlockMarkedBad(int block) => MarkedBad.Add(block);

        public bool MayReclaim(int block) => !Refused.Contains(block);

        void IReclaimPolicy.Reclaimed(int block) => Reclaimed.Add(block);
    }
}
