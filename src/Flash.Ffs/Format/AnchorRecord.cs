using System.Text;

namespace Flash.Ffs.Format;

/// <summary>
/// The decoded fixed part and list of an anchor page (docs/format.md, "Anchor"): the volume's geometry and identity,
/// where the current checkpoint is, and the two anchor blocks. Immutable; <see cref="Encode"/> and
/// <see cref="Decode"/> are the one definition of its layout. Policy (which versions and geometries a mount accepts,
/// whether the layout is possible) belongs to the caller.
/// </summary>
internal sealed class AnchorRecord
{
    /// <summary>Bytes before the list.</summary>
    public const int FixedSize = 96;

    /// <summary>The first format version whose anchor records a write pool after the list.</summary>
    public const ushort PoolVersion = 5;

    /// <summary>The pool count that says "no pool recorded": recovery scans every free and full block (the page had no room).</summary>
    public const uint NoPool = uint.MaxValue;

    /// <summary>Bytes of the label field.</summary>
    public const int LabelSize = 32;

    private static ReadOnlySpan<byte> Magic => "FLASHFS\0"u8;

    private static readonly Func<Exception> s_short = static () => new FileSystemCorruptException("The anchor page has a wrong magic number.");

    /// <summary>Format version the volume was written in.</summary>
    public required ushort Version { get; init; }

    /// <summary>Bytes of a page tag.</summary>
    public required ushort TagSize { get; init; }

    /// <summary>Geometry at format: page, spare, pages a block, blocks, kind (<see cref="Drivers.FlashKind"/> as a byte).</summary>
    public required int PageSize { get; init; }

    /// <summary>Spare bytes a page.</summary>
    public required int SpareSize { get; init; }

    /// <summary>Pages a block.</summary>
    public required int PagesPerBlock { get; init; }

    /// <summary>Blocks of the volume.</summary>
    public required int BlockCount { get; init; }

    /// <summary>The device kind as a byte.</summary>
    public required byte Kind { get; init; }

    /// <summary>Whether tags live in the spare area.</summary>
    public required bool TagInSpare { get; init; }

    /// <summary>The volume identifier.</summary>
    public required uint VolumeId { get; init; }

    /// <summary>The sequence number the checkpoint was taken at.</summary>
    public required ulong CheckpointSequence { get; init; }

    /// <summary>Bytes of the checkpoint body.</summary>
    public required int CheckpointLength { get; init; }

    /// <summary>CRC-32C of the checkpoint body.</summary>
    public required uint CheckpointCrc { get; init; }

    /// <summary>Pages of the checkpoint.</summary>
    public required int CheckpointPageCount { get; init; }

    /// <summary>The volume label (at most <see cref="LabelSize"/> UTF-8 bytes).</summary>
    public required string Label { get; init; }

    /// <summary>The first anchor block.</summary>
    public required int AnchorBlock0 { get; init; }

    /// <summary>The second anchor block.</summary>
    public required int AnchorBlock1 { get; init; }

    /// <summary>
    /// The list: version 1, every checkpoint page; version 2 and later, the block of every <see cref="PagesPerBlock"/>
    /// pages. Null when the page is too short for the list its counts declare (the caller reports the impossible layout).
    /// </summary>
    public required int[]? List { get; init; }

    /// <summary>
    /// Version 5 and later: the write pool, the blocks writes may take until the next anchor (docs/format.md, "Anchor
    /// page"); null when the version has none or the anchor recorded <see cref="NoPool"/>.
    /// </summary>
    public int[]? Pool { get; init; }

    /// <summary>Whether the decoded page declared a pool longer than the page holds (the caller reports the impossible layout).</summary>
    public bool PoolTruncated { get; init; }

    /// <summary>Pool entries an anchor page of <paramref name="payloadSize"/> bytes has room for beside a list of <paramref name="listEntries"/>; negative when not even the count fits.</summary>
    public static int PoolRoom(int payloadSize, int listEntries) => ((payloadSize - FixedSize - (4 * listEntries)) / 4) - 1;

    /// <summary>Entries the list has for a version and page count.</summary>
    public static int ListedFor(ushort version, int pageCount, int pagesPerBlock)
        => version == 1 ? pageCount : (int)Math.Min(int.MaxValue, ((long)pageCount + pagesPerBlock - 1) / pagesPerBlock);

    /// <summary>Bytes the record takes.</summary>
    public int EncodedSize => EncodedSizeWith(Pool?.Length ?? 0);

    /// <summary>Bytes the record takes with a pool of <paramref name="poolEntries"/> entries instead of <see cref="Pool"/>.</summary>
    public int EncodedSizeWith(int poolEntries) => FixedSize + (4 * (List?.Length ?? 0)) + (Version >= PoolVersion ? 4 + (4 * poolEntries) : 0);

    /// <summary>Encodes the record into <paramref name="destination"/> (at least <see cref="EncodedSize"/> bytes).</summary>
    public void Encode(Span<byte> destination) => EncodeWith(destination, Pool, Pool is not null);

    /// <summary>
    /// Encodes the record with another pool (a refill anchor repeats its checkpoint's record with the pool refilled)
    /// into <paramref name="destination"/> (at least <see cref="EncodedSizeWith"/> bytes). Allocates nothing.
    /// </summary>
    /// <param name="destination">Receives the record.</param>
    /// <param name="pool">The pool to record.</param>
    /// <param name="hasPool">False: record <see cref="NoPool"/> (and ignore <paramref name="pool"/>).</param>
    /// <exception cref="InvalidOperationException">The label takes more than <see cref="LabelSize"/> UTF-8 bytes.</exception>
    public void EncodeWith(Span<byte> destination, ReadOnlySpan<int> pool, bool hasPool)
    {
        if (!hasPool)
        {
            pool = [];
        }

        var w = new LittleEndianWriter(destination[..EncodedSizeWith(pool.Length)]);
        w.Bytes(Magic);
        w.U16(Version);
        w.U16(TagSize);
        w.I32(PageSize);
        w.I32(SpareSize);
        w.I32(PagesPerBlock);
        w.I32(BlockCount);
        w.U8(Kind);
        w.U8(TagInSpare ? (byte)1 : (byte)0);
        w.U16(0);
        w.U32(VolumeId);
        w.U64(CheckpointSequence);
        w.I32(CheckpointLength);
        w.U32(CheckpointCrc);
        w.I32(CheckpointPageCount);
        int labelBytes = Encoding.UTF8.GetByteCount(Label);
        if (labelBytes > LabelSize)
        {
            throw new InvalidOperationException($"The label takes {labelBytes} UTF-8 bytes; at most {LabelSize} fit.");
        }

        Span<byte> label = stackalloc byte[LabelSize];
        label = label[..Encoding.UTF8.GetBytes(Label, label)];
        w.Bytes(label);
        w.Fill(0, LabelSize - label.Length);
        w.I32(AnchorBlock0);
        w.I32(AnchorBlock1);
        foreach (int entry in List ?? [])
        {
            w.I32(entry);
        }

        if (Version >= PoolVersion)
        {
            w.U32(hasPool ? (uint)pool.Length : NoPool);
            foreach (int block in pool)
            {
                w.I32(block);
            }
        }
    }

    /// <summary>Decodes an anchor page's payload.</summary>
    /// <exception cref="FileSystemCorruptException">Wrong magic, too short, or a version outside <paramref name="oldest"/>..<paramref name="newest"/> (or another tag size).</exception>
    public static AnchorRecord Decode(ReadOnlySpan<byte> payload, ushort oldest, ushort newest, int expectedTagSize)
    {
        if (payload.Length < FixedSize || !payload[..Magic.Length].SequenceEqual(Magic))
        {
            throw s_short();
        }

        var r = new LittleEndianReader(payload, s_short);
        r.Skip(Magic.Length);
        ushort version = r.U16();
        ushort tagSize = r.U16();
        if (version < oldest || version > newest || tagSize != expectedTagSize)
        {
            throw new FileSystemCorruptException($"The volume has format version {version}; this library reads versions {oldest} to {newest}.");
        }

        int pageSize = r.I32(), spare = r.I32(), ppb = r.I32(), blocks = r.I32();
        byte kind = r.U8();
        bool tagInSpare = r.U8() == 1;
        r.Skip(2);
        uint volumeId = r.U32();
        ulong sequence = r.U64();
        int length = r.I32();
        uint crc = r.U32();
        int count = r.I32();
        string label = Encoding.UTF8.GetString(r.Bytes(LabelSize)).TrimEnd('\0');
        int anchor0 = r.I32(), anchor1 = r.I32();
        int[]? list = null;
        int listed = ppb > 0 ? ListedFor(version, count, ppb) : -1;
        if (listed >= 0 && r.Remaining / 4 >= listed)
        {
            list = new int[listed];
            for (int i = 0; i < listed; i++)
            {
                list[i] = r.I32();
            }
        }

        int[]? pool = null;
        bool truncated = false;
        if (version >= PoolVersion && list is not null)
        {
            // The writer always writes the count: a version-5 page without one is an impossible layout.
            truncated = r.Remaining < 4;
            uint declared = truncated ? NoPool : r.U32();
            if (declared != NoPool)
            {
                if (declared > (uint)(r.Remaining / 4))
                {
                    truncated = true;
                }
                else
                {
                    pool = new int[declared];
                    for (int i = 0; i < pool.Length; i++)
                    {
                        pool[i] = r.I32();
                    }
                }
            }
        }

        return new AnchorRecord
        {
            Version = version,
            TagSize = tagSize,
            PageSize = pageSize,
            SpareSize = spare,
            PagesPerBlock = ppb,
            BlockCount = blocks,
            Kind = kind,
            TagInSpare = tagInSpare,
            VolumeId = volumeId,
            CheckpointSequence = sequence,
            CheckpointLength = length,
            CheckpointCrc = crc,
            CheckpointPageCount = count,
            Label = label,
            AnchorBlock0 = anchor0,
            AnchorBlock1 = anchor1,
            List = list,
            Pool = pool,
            PoolTruncated = truncated,
        };
    }

    /// <summary>The two anchor blocks an anchor payload names (offsets 88 and 92), without decoding the rest.</summary>
    public static (int Block0, int Block1) AnchorBlocksNamedIn(ReadOnlySpan<byte> payload)
    {
        var r = new LittleEndianReader(payload, s_short);
        r.Skip(88);
        return (r.I32(), r.I32());
    }
}
