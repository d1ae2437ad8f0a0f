#pragma warning disable xUnit1051 // the pair API is exercised without tokens on purpose
using Flash.Ffs;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>
/// The ranged self-heal (<see cref="PairHealer.HealRange"/>): a range of a file unreadable on the primary (an injected,
/// uncorrectable bit error) is read from the secondary, rewritten on the primary and served, for the alternate and the
/// current context alike; without a good copy the read fails as it did.
/// </summary>
public class PairRangeHealTests
{
    private const string File = "components/big.bin";

    /// <summary>A pair whose alternate holds <see cref="File"/> (written in slices, as the streaming install does) on both devices.</summary>
    private static (RedundantPair Pair, RailDevice A, RailDevice B, byte[] Content) Pair(int length = 60_000)
    {
        var (a, b, _) = PairRig.Create();
        RedundantPair.Format(a, b);
        var pair = RedundantPair.Mount(a, b);
        var content = PairRig.Pattern(length, 7);
        for (int at = 0; at < content.Length; at += 16_384)
        {
            using var txn = pair.BeginTransaction();
            txn.WriteAlternateAt(File, at, content.AsSpan(at, Math.Min(16_384, content.Length - at)));
            txn.CompletePrimary();
        }

        return (pair, a, b, content);
    }

    [Fact]
    public void A_damaged_page_of_an_alternate_range_is_read_from_the_secondary_and_rewritten_on_the_primary()
    {
        var (pair, a, _, content) = Pair();
        using var _ = pair;
        var healed = new List<SelfHealEventArgs>();
        pair.SelfHealed += (_, e) => healed.Add(e);
        string abs = PairParts.AlternatePath(pair.Primary, File);
        PairRig.DamagePageHolding(a.Inner, content.AsSpan(30_000, 64));
        Assert.Throws<FlashDataCorruptException>(() => pair.Primary.Store!.FileSystem.ReadAllBytes(abs));

        var range = new byte[20_000];
        int n = pair.ReadAlternateRange(File, 25_000, range);

        Assert.Equal(20_000, n);
        Assert.Equal(content.AsSpan(25_000, 20_000).ToArray(), range);
        Assert.Equal(pair.Primary.DeviceId, Assert.Single(healed).DeviceId);
        Assert.Equal(content, pair.Primary.Store!.FileSystem.ReadAllBytes(abs)); // the primary's copy is whole again
        Assert.Equal(content, pair.ReadAlternate(File));
        PairRig.AssertConverged(pair);
    }

    [Fact]
    public void A_damaged_page_of_a_current_range_is_healed_without_reading_the_whole_file()
    {
        var (pair, a, _, content) = Pair(200_000);
        using var _ = pair;
        pair.MarkAlternateComplete("v1");
        pair.SwitchContexts();
        PairRig.DamagePageHolding(a.Inner, content.AsSpan(150_000, 64));
        long before = pair.Secondary.Device.Statistics.Capture().PageReads;

        var range = new byte[4096];
        Assert.Equal(4096, pair.ReadCurrentRange(File, 149_000, range));

        Assert.Equal(content.AsSpan(149_000, 4096).ToArray(), range);
        long secondaryReads = pair.Secondary.Device.Statistics.Capture().PageReads - before;
        Assert.True(secondaryReads < 20, $"{secondaryReads} pages read on the secondary for a 4 KiB range of a 200 KB file");
        Assert.Equal(content, pair.ReadCurrent(File));
        PairRig.AssertConverged(pair);
    }

    [Fact]
    public void Without_a_good_copy_on_the_secondary_the_ranged_read_fails_as_it_did()
    {
        var (pair, a, b, content) = Pair();
        using var _ = pair;
        PairRig.DamagePageHolding(a.Inner, content.AsSpan(30_000, 64));
        PairRig.DamagePageHolding(b.Inner, content.AsSpan(30_000, 64));

        Assert.Throws<FlashDataCorruptException>(() => pair.ReadAlternateRange(File, 25_000, new byte[20_000]));
        Assert.Equal(content.AsSpan(0, 16_384).ToArray(), ReadRange(pair, 0, 16_384)); // the undamaged ranges still read
    }

    [Theory]
    [InlineData(0, 100, 1000, 0, 1000)]
    [InlineData(5000, 2000, 100_000, 4096, 8192)]
    [InlineData(9000, 4000, 10_000, 8192, 10_000)] // the partial last chunk is rewritten whole (from its start to the file's end)
    [InlineData(0, 20_000, 10_000, 0, 10_000)] // from 0, the whole file is rewritten
    public void The_rewrite_covers_whole_chunks_only(long offset, int count, long length, long start, long end)
        => Assert.Equal((start, end), PairHealer.ChunkSpan(2048, offset, count, length));

    [Fact]
    public void A_damaged_partial_last_chunk_is_rewritten_by_a_ranged_heal_that_does_not_start_at_zero()
    {
        var (pair, a, _, content) = Pair(); // 60,000 bytes: the last chunk is partial
        using var _ = pair;
        string abs = PairParts.AlternatePath(pair.Primary, File);
        int chunk = pair.Primary.Store!.FileSystem.ChunkSize;
        long lastChunk = (content.Length - 1) / chunk * chunk;
        Assert.NotEqual(0, content.Length % chunk);
        PairRig.DamagePageHolding(a.Inner, content.AsSpan((int)lastChunk + 16, 64));
        Assert.Throws<FlashDataCorruptException>(() => pair.Primary.Store!.FileSystem.ReadAllBytes(abs));

        var range = new byte[3000];
        Assert.Equal(3000, pair.ReadAlternateRange(File, content.Length - 3000, range));

        Assert.Equal(content.AsSpan(content.Length - 3000).ToArray(), range);
        Assert.Equal(content, pair.Primary.Store!.FileSystem.ReadAllBytes(abs)); // healed on the primary, last chunk included
        PairRig.AssertConverged(pair);
    }

    private static byte[] ReadRange(RedundantPair pair, long offset, int count)
    {
        var buffer = new byte[count];
        Assert.Equal(count, pair.ReadAlternateRange(File, offset, buffer));
        return buffer;
    }
}
