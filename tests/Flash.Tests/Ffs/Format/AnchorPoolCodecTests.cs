using Flash.Ffs;
using Flash.Ffs.Format;

namespace Flash.Tests.Ffs.Format;

/// <summary>
/// The version-5 anchor's write pool (docs/format.md, "Anchor page"): the count and blocks after the list round trip,
/// the no-pool count decodes to none, older versions carry no pool field, and a count longer than the page is
/// reported as an impossible layout rather than read past the page.
/// </summary>
public class AnchorPoolCodecTests
{
    /// <summary>The record codec tests' sample anchor on 256 blocks, with <paramref name="pool"/>.</summary>
    private static AnchorRecord Anchor(ushort version, int[]? pool) => RecordCodecTests.SampleAnchor(version, blockCount: 256, pool: pool);

    private static byte[] Encoded(AnchorRecord a)
    {
        var bytes = new byte[a.EncodedSize];
        a.Encode(bytes);
        return bytes;
    }

    [Fact]
    public void A_version_5_pool_round_trips_after_the_list()
    {
        int[] pool = [17, 4, 200, 33];
        var bytes = Encoded(Anchor(5, pool));
        Assert.Equal(AnchorRecord.FixedSize + (2 * 4) + 4 + (4 * pool.Length), bytes.Length);
        Assert.Equal((uint)pool.Length, BitConverter.ToUInt32(bytes, AnchorRecord.FixedSize + 8));
        var read = AnchorRecord.Decode(bytes, 1, 5, PageTag.Size);
        Assert.Equal(pool, read.Pool);
        Assert.Equal([2, 9], read.List!);
        Assert.False(read.PoolTruncated);
    }

    [Fact]
    public void No_pool_and_older_versions_decode_without_a_pool()
    {
        var none = AnchorRecord.Decode(Encoded(Anchor(5, null)), 1, 5, PageTag.Size);
        Assert.Null(none.Pool);
        Assert.False(none.PoolTruncated);
        var empty = AnchorRecord.Decode(Encoded(Anchor(5, [])), 1, 5, PageTag.Size);
        Assert.Equal([], empty.Pool!);

        // Version 4 has no pool field: the same record encodes 4 bytes shorter and never reads one.
        var v4 = Anchor(4, [1, 2, 3]);
        Assert.Equal(AnchorRecord.FixedSize + 8, v4.EncodedSize);
        var read = AnchorRecord.Decode(Encoded(v4), 1, 5, PageTag.Size);
        Assert.Null(read.Pool);
        Assert.False(read.PoolTruncated);
    }

    [Fact]
    public void A_pool_longer_than_the_page_is_an_impossible_layout()
    {
        var bytes = Encoded(Anchor(5, [5, 6, 7]));
        Assert.True(AnchorRecord.Decode(bytes.AsSpan(0, bytes.Length - 4), 1, 5, PageTag.Size).PoolTruncated);
        Assert.True(AnchorRecord.Decode(bytes.AsSpan(0, AnchorRecord.FixedSize + 8 + 2), 1, 5, PageTag.Size).PoolTruncated);
    }

    [Theory]
    [InlineData(2048, 2, 485)]
    [InlineData(480, 1, 94)]
    [InlineData(100, 1, -1)]
    public void Pool_room_is_what_the_page_holds_beside_the_list_and_the_count(int payload, int list, int room)
        => Assert.Equal(room, AnchorRecord.PoolRoom(payload, list));
}
