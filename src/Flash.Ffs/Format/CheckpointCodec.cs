using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Format;

/// <summary>
/// The one layout definition of a checkpoint body (docs/format.md, "Checkpoint"): pure functions. Writers take
/// values (the file system's checkpoint writers read them from the live components and write entries a slice at a
/// time); <see cref="Decode"/> checks a body and returns a <see cref="CheckpointImage"/> or throws
/// <see cref="FileSystemCorruptException"/>, naming the first fault. It checks every field on its own (magic,
/// version, ranges, kinds, lengths, trailing bytes); whether the entries form a tree is the index's question when it
/// is built from the image.
/// </summary>
internal static class CheckpointCodec
{
    /// <summary>"CKPT".</summary>
    public const uint Magic = 0x54504B43;

    /// <summary>
    /// The format version written; 2 added the open-transaction list, 3 the entries' lost chunks, 4 the version-4 page
    /// tags (<see cref="TxnOrdinalTagsVersion"/>), 5 the anchor's write pool (<see cref="AnchorRecord.PoolVersion"/>) and the body kind (<see cref="DeltaVersion"/>: a base or a delta over one).
    /// </summary>
    public const ushort Version = 5;

    /// <summary>The first version whose header has a kind byte (offset 60): 0 a base (the whole volume), 1 a delta over a base.</summary>
    public const ushort DeltaVersion = 5;

    /// <summary>The kind byte of a base body.</summary>
    public const byte KindBase = 0;

    /// <summary>The kind byte of a delta body.</summary>
    public const byte KindDelta = 1;

    /// <summary>Offset of the kind byte in the header.</summary>
    public const int KindOffset = 60;

    /// <summary>Bytes of a delta's reference to its base without the block list: sequence, length, CRC, page count, block count.</summary>
    public const int BaseRefFixedSize = 24;

    /// <summary>Bytes of one changed block of a delta: the block number and its entry.</summary>
    public const int ChangedBlockSize = 4 + BlockSize;

    /// <summary>
    /// The first version whose volume writes version-4 page tags (magic 0xF2: 48-bit sequence, transaction page ordinal,
    /// PageTag). The checkpoint body does not change; the number tells older code that it cannot read the pages.
    /// </summary>
    public const ushort TxnOrdinalTagsVersion = 4;

    /// <summary>The first version whose entries may list lost chunks.</summary>
    public const ushort LostChunksVersion = 3;

    /// <summary>Set in an entry's data kind byte (version 3) when a lost-chunk list follows its data.</summary>
    public const byte LostFlag = 0x80;

    /// <summary>The oldest version decoded.</summary>
    public const ushort OldestVersion = 1;

    /// <summary>Bytes of the header and both heads, before the block table.</summary>
    public const int HeaderSize = 64;

    /// <summary>Bytes of one block of the block table.</summary>
    public const int BlockSize = 14;

    /// <summary>Bytes of an entry without its name and data.</summary>
    public const int EntryFixedSize = 27;

    private static readonly Func<Exception> s_short = static () => new FileSystemCorruptException("The checkpoint ends before its declared content.");

    /// <summary>Bytes of the fixed part: header, heads, block table and an open-transaction list of <paramref name="openTxnBytes"/>.</summary>
    /// <param name="blockCount">Blocks of the device.</param>
    /// <param name="openTxnBytes">Bytes of the open-transaction list (<see cref="OpenTxnListSize"/>).</param>
    /// <returns>The size.</returns>
    public static int HeadSize(int blockCount, int openTxnBytes) => HeaderSize + (blockCount * BlockSize) + openTxnBytes;

    /// <summary>Bytes of an open-transaction list: its count and, per transaction, id, block count and blocks.</summary>
    /// <param name="transactions">Transactions listed.</param>
    /// <param name="blocks">Blocks listed over all of them.</param>
    /// <returns>The size.</returns>
    public static int OpenTxnListSize(int transactions, int blocks) => 4 + (8 * transactions) + (4 * blocks);

    /// <summary>Bytes of one entry.</summary>
    /// <param name="nameLength">UTF-8 bytes of its name.</param>
    /// <param name="inline">Whether it records inline data.</param>
    /// <param name="extents">Extents of its chunk map, or -1 for none.</param>
    /// <param name="lost">Lost chunks it lists (0: no list).</param>
    /// <returns>The size.</returns>
    public static int EntrySize(int nameLength, bool inline, int extents, int lost = 0)
        => EntryFixedSize + nameLength + (inline ? 6 : 0) + (extents >= 0 ? 4 + (extents * 12) : 0) + (lost > 0 ? 4 + (4 * lost) : 0);

    /// <summary>Writes the header and the heads (everything before the block table).</summary>
    /// <param name="w">The writer.</param>
    /// <param name="image">The header's values (its blocks, transactions and entries are not written here).</param>
    /// <param name="blockCount">Blocks of the device (the block table that follows).</param>
    /// <param name="entryCount">Entries that follow the fixed part.</param>
    /// <param name="version">The layout version (only images decoded from old bodies say anything but <see cref="Version"/>).</param>
    /// <param name="kind">The body kind (<see cref="KindBase"/> or <see cref="KindDelta"/>; version 5 on).</param>
    public static void WriteHeader(ref LittleEndianWriter w, CheckpointHeader image, int blockCount, uint entryCount, ushort version = Version, byte kind = KindBase)
    {
        w.U32(Magic);
        w.U16(version);
        w.U16(image.Clean ? (ushort)1 : (ushort)0);
        w.U64(image.Sequence);
        w.U32(image.NextId);
        w.U32(image.NextTxn);
        w.U32((uint)blockCount);
        w.U32(entryCount);
        WriteHead(ref w, image.Hot);
        WriteHead(ref w, image.Cold);
        w.I32(image.CheckpointNext);
        w.U8(kind);
        w.U8(0);
        w.U16(0);
    }

    /// <summary>Bytes of a delta before its entries: header, base reference, changed blocks and open-transaction list.</summary>
    /// <param name="baseBlocks">Blocks the base fills.</param>
    /// <param name="changedBlocks">Block-table entries that differ from the base's.</param>
    /// <param name="openTxnBytes">Bytes of the open-transaction list (<see cref="OpenTxnListSize"/>).</param>
    /// <returns>The size.</returns>
    public static int DeltaHeadSize(int baseBlocks, int changedBlocks, int openTxnBytes)
        => HeaderSize + BaseRefFixedSize + (4 * baseBlocks) + 4 + (ChangedBlockSize * changedBlocks) + openTxnBytes;

    /// <summary>Bytes of a delta's deleted-id list.</summary>
    /// <param name="deleted">Ids listed.</param>
    /// <returns>The size.</returns>
    public static int DeletedListSize(int deleted) => 4 + (4 * deleted);

    /// <summary>Writes a delta's reference to its base (after the header).</summary>
    /// <param name="w">The writer.</param>
    /// <param name="reference">The base.</param>
    public static void WriteBaseRef(ref LittleEndianWriter w, CheckpointBaseRef reference) => WriteBaseRef(ref w, reference.Sequence, reference.Length, reference.Crc, reference.PageCount, reference.Blocks.AsSpan());

    /// <summary>Writes a delta's reference to its base (after the header).</summary>
    /// <param name="w">The writer.</param>
    /// <param name="sequence">The base's sequence.</param>
    /// <param name="length">Bytes of the base body.</param>
    /// <param name="crc">Its CRC-32C.</param>
    /// <param name="pageCount">Pages it fills.</param>
    /// <param name="blocks">The blocks it fills, in order (its pages run from the start of each).</param>
    public static void WriteBaseRef(ref LittleEndianWriter w, ulong sequence, int length, uint crc, int pageCount, ReadOnlySpan<int> blocks)
    {
        w.U64(sequence);
        w.U32((uint)length);
        w.U32(crc);
        w.U32((uint)pageCount);
        w.U32((uint)blocks.Length);
        foreach (int b in blocks)
        {
            w.I32(b);
        }
    }

    /// <summary>Writes the count of a delta's changed blocks; follow with that many <see cref="WriteChangedBlock"/>, ascending.</summary>
    /// <param name="w">The writer.</param>
    /// <param name="count">Blocks that follow.</param>
    public static void WriteChangedBlockCount(ref LittleEndianWriter w, int count) => w.U32((uint)count);

    /// <summary>Writes one changed block of a delta.</summary>
    /// <param name="w">The writer.</param>
    /// <param name="block">The block number.</param>
    /// <param name="entry">Its entry.</param>
    public static void WriteChangedBlock(ref LittleEndianWriter w, int block, CheckpointBlock entry)
    {
        w.I32(block);
        WriteBlock(ref w, entry);
    }

    /// <summary>Writes a delta's deleted-id list (ids ascending), which ends the body.</summary>
    /// <param name="w">The writer.</param>
    /// <param name="ids">The ids.</param>
    public static void WriteDeleted(ref LittleEndianWriter w, ReadOnlySpan<uint> ids)
    {
        w.U32((uint)ids.Length);
        foreach (uint id in ids)
        {
            w.U32(id);
        }
    }

    /// <summary>Whether a body is a delta (version 5 on, kind byte 1); anything else is decoded as a base by <see cref="Decode"/>.</summary>
    /// <param name="body">The body.</param>
    /// <returns>Whether to decode it with <see cref="DecodeDelta"/>.</returns>
    public static bool IsDelta(ReadOnlySpan<byte> body)
        => body.Length >= HeaderSize && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(body) == Magic
            && System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(body[4..]) >= DeltaVersion && body[KindOffset] == KindDelta;

    /// <summary>Writes one block of the block table.</summary>
    /// <param name="w">The writer.</param>
    /// <param name="block">The block.</param>
    public static void WriteBlock(ref LittleEndianWriter w, CheckpointBlock block)
    {
        w.U8((byte)block.State);
        w.U8(block.Erased ? (byte)1 : (byte)0);
        w.U32(block.EraseCount);
        w.U64(block.FirstSequence);
    }

    /// <summary>Writes the count of the open-transaction list.</summary>
    /// <param name="w">The writer.</param>
    /// <param name="count">Transactions that follow.</param>
    public static void WriteOpenTxnCount(ref LittleEndianWriter w, int count) => w.U32((uint)count);

    /// <summary>Writes one open transaction.</summary>
    /// <param name="w">The writer.</param>
    /// <param name="id">Its id.</param>
    /// <param name="blocks">The blocks holding its pages.</param>
    public static void WriteOpenTxn(ref LittleEndianWriter w, uint id, ReadOnlySpan<int> blocks)
    {
        w.U32(id);
        w.U32((uint)blocks.Length);
        foreach (int b in blocks)
        {
            w.I32(b);
        }
    }

    /// <summary>Writes an entry up to its data kind; follow with exactly one of <see cref="WriteNoData"/>, <see cref="WriteInline"/>, <see cref="WriteExtentCount"/>.</summary>
    /// <param name="w">The writer.</param>
    /// <param name="id">Its id.</param>
    /// <param name="parent">Its directory.</param>
    /// <param name="isDirectory">A directory.</param>
    /// <param name="name">Its UTF-8 name (at most 255 bytes).</param>
    /// <param name="size">Its size.</param>
    /// <param name="modificationSequence">Sequence of its last change.</param>
    public static void WriteEntryStart(ref LittleEndianWriter w, uint id, uint parent, bool isDirectory, ReadOnlySpan<byte> name, long size, ulong modificationSequence)
    {
        w.U32(id);
        w.U32(parent);
        w.U8(isDirectory ? (byte)2 : (byte)1);
        w.U8((byte)name.Length);
        w.Bytes(name);
        w.I64(size);
        w.U64(modificationSequence);
    }

    /// <summary>Ends an entry without data (or, with <paramref name="lost"/>, continues it with <see cref="WriteLostCount"/>).</summary>
    /// <param name="w">The writer.</param>
    /// <param name="lost">Whether a lost-chunk list follows.</param>
    public static void WriteNoData(ref LittleEndianWriter w, bool lost = false) => w.U8(lost ? LostFlag : (byte)0);

    /// <summary>Ends an entry with inline data.</summary>
    /// <param name="w">The writer.</param>
    /// <param name="page">The metadata page.</param>
    /// <param name="offset">The data's offset in it (16 bits).</param>
    public static void WriteInline(ref LittleEndianWriter w, int page, int offset)
    {
        w.U8(1);
        w.I32(page);
        w.U16((ushort)offset);
    }

    /// <summary>Continues an entry with a chunk map of <paramref name="count"/> extents; follow with that many <see cref="WriteExtent"/> (then, with <paramref name="lost"/>, <see cref="WriteLostCount"/>).</summary>
    /// <param name="w">The writer.</param>
    /// <param name="count">Extents that follow.</param>
    /// <param name="lost">Whether a lost-chunk list follows the extents.</param>
    public static void WriteExtentCount(ref LittleEndianWriter w, int count, bool lost = false)
    {
        w.U8(lost ? (byte)(2 | LostFlag) : (byte)2);
        w.U32((uint)count);
    }

    /// <summary>Ends an entry whose data kind has <see cref="LostFlag"/> with the count of its lost chunks; follow with that many chunk numbers (u32, ascending).</summary>
    /// <param name="w">The writer.</param>
    /// <param name="count">Chunks that follow (at least 1).</param>
    public static void WriteLostCount(ref LittleEndianWriter w, int count) => w.U32((uint)count);

    /// <summary>Writes an entry patch up to its runs (docs/format.md "Delta checkpoints"); follow with <paramref name="runs"/> <see cref="WriteExtent"/> (page -1: unmapped).</summary>
    /// <param name="w">The writer.</param>
    /// <param name="id">The file's id.</param>
    /// <param name="size">Its size.</param>
    /// <param name="modificationSequence">Sequence of its last change.</param>
    /// <param name="runs">Runs that follow.</param>
    public static void WritePatchStart(ref LittleEndianWriter w, uint id, long size, ulong modificationSequence, int runs)
    {
        w.U32(id);
        w.U32(CheckpointEntryPatch.Marker);
        w.I64(size);
        w.U64(modificationSequence);
        w.U32((uint)runs);
    }

    /// <summary>Writes one extent of a chunk map.</summary>
    /// <param name="w">The writer.</param>
    /// <param name="logical">The first chunk.</param>
    /// <param name="page">Its page.</param>
    /// <param name="count">Chunks in the run.</param>
    public static void WriteExtent(ref LittleEndianWriter w, uint logical, int page, int count)
    {
        w.U32(logical);
        w.I32(page);
        w.I32(count);
    }

    /// <summary>Encodes a whole image (in its version's layout: version 1 has no open-transaction list).</summary>
    /// <param name="image">The image.</param>
    /// <returns>The body.</returns>
    public static byte[] Encode(CheckpointImage image)
    {
        var w = LittleEndianWriter.Growable(4096);
        try
        {
            WriteHeader(ref w, CheckpointHeader.Of(image), image.Blocks.Length, (uint)image.Entries.Length, image.Version);
            foreach (var b in image.Blocks)
            {
                WriteBlock(ref w, b);
            }

            if (image.Version >= 2)
            {
                WriteOpenTxnCount(ref w, image.OpenTransactions.Length);
                foreach (var t in image.OpenTransactions)
                {
                    WriteOpenTxn(ref w, t.Id, t.Blocks.AsSpan());
                }
            }

            WriteEntries(ref w, image.Entries);
            return w.Written.ToArray();
        }
        finally
        {
            w.Dispose();
        }
    }

    /// <summary>Encodes a whole delta.</summary>
    /// <param name="delta">The delta.</param>
    /// <returns>The body.</returns>
    public static byte[] EncodeDelta(CheckpointDelta delta)
    {
        var w = LittleEndianWriter.Growable(4096);
        try
        {
            WriteHeader(ref w, delta.Header, delta.BlockCount, (uint)(delta.Entries.Length + delta.PatchList.Length), Version, KindDelta);
            WriteBaseRef(ref w, delta.Base);
            WriteChangedBlockCount(ref w, delta.ChangedBlocks.Length);
            foreach (var (block, entry) in delta.ChangedBlocks)
            {
                WriteChangedBlock(ref w, block, entry);
            }

            WriteOpenTxnCount(ref w, delta.OpenTransactions.Length);
            foreach (var t in delta.OpenTransactions)
            {
                WriteOpenTxn(ref w, t.Id, t.Blocks.AsSpan());
            }

            WriteEntries(ref w, delta.Entries);
            foreach (var p in delta.PatchList)
            {
                WritePatchStart(ref w, p.Id, p.Size, p.ModificationSequence, p.Runs.Length);
                foreach (var x in p.Runs)
                {
                    WriteExtent(ref w, x.Logical, x.Page, x.Count);
                }
            }

            WriteDeleted(ref w, delta.Deleted.AsSpan());
            return w.Written.ToArray();
        }
        finally
        {
            w.Dispose();
        }
    }

    private static void WriteEntries(ref LittleEndianWriter w, ImmutableArray<CheckpointEntry> entries)
    {
        foreach (var e in entries)
        {
            bool lost = !e.Lost.IsDefaultOrEmpty;
            WriteEntryStart(ref w, e.Id, e.Parent, e.IsDirectory, e.Name.AsSpan(), e.Size, e.ModificationSequence);
            if (e.IsInline)
            {
                WriteInline(ref w, e.InlinePage, e.InlineOffset);
            }
            else if (e.IsChunked)
            {
                WriteExtentCount(ref w, e.Extents.Length, lost);
                foreach (var x in e.Extents)
                {
                    WriteExtent(ref w, x.Logical, x.Page, x.Count);
                }
            }
            else
            {
                WriteNoData(ref w, lost);
            }

            if (lost)
            {
                WriteLostCount(ref w, e.Lost.Length);
                foreach (uint chunk in e.Lost)
                {
                    w.U32(chunk);
                }
            }
        }
    }

    /// <summary>Checks and decodes a checkpoint body.</summary>
    /// <param name="body">The body, exactly as long as the anchor says.</param>
    /// <param name="crc">The CRC-32C the anchor records for it.</param>
    /// <param name="blockCount">Blocks of the device.</param>
    /// <param name="pagesPerBlock">Pages a block.</param>
    /// <returns>The image.</returns>
    /// <exception cref="FileSystemCorruptException">The body is damaged or does not fit the device; the message names the first fault.</exception>
    public static CheckpointImage Decode(ReadOnlySpan<byte> body, uint crc, int blockCount, int pagesPerBlock)
    {
        if (Crc32C.Compute(body) != crc)
        {
            throw new FileSystemCorruptException("The checkpoint's CRC does not match.");
        }

        var limits = new Limits(blockCount, pagesPerBlock);
        var r = new LittleEndianReader(body, s_short);
        ushort version = 0;
        if (r.U32() != Magic || (version = r.U16()) is < OldestVersion or > Version)
        {
            throw new FileSystemCorruptException("The checkpoint has a wrong magic number or version.");
        }

        bool clean = r.U16() == 1;
        ulong sequence = r.U64();
        uint nextId = r.U32();
        uint nextTxn = r.U32();
        if (r.U32() != (uint)blockCount)
        {
            throw new FileSystemCorruptException("The checkpoint's block count does not match the device.");
        }

        uint entryCount = r.U32();
        var hot = ReadHead(ref r, limits);
        var cold = ReadHead(ref r, limits);
        int checkpointNext = limits.Block(r.I32(), allowNone: true);
        if (ReadKind(ref r, version) != KindBase)
        {
            throw new FileSystemCorruptException("The checkpoint is a delta where a base was expected.");
        }

        var blocks = ImmutableArray.CreateBuilder<CheckpointBlock>(blockCount);
        for (int b = 0; b < blockCount; b++)
        {
            blocks.Add(ReadBlock(ref r, b));
        }

        var open = version >= 2 ? ReadOpenTxns(ref r, nextTxn, limits) : [];
        var entries = ImmutableArray.CreateBuilder<CheckpointEntry>((int)Math.Min(entryCount, (uint)body.Length / EntryFixedSize));
        for (uint i = 0; i < entryCount; i++)
        {
            entries.Add(ReadEntry(ref r, limits, version));
        }

        if (r.Remaining != 0)
        {
            throw new FileSystemCorruptException("The checkpoint has trailing bytes.");
        }

        return new CheckpointImage(version, clean, sequence, nextId, nextTxn, hot, cold, checkpointNext, blocks.MoveToImmutable(), open, entries.DrainToImmutable());
    }

    /// <summary>Checks and decodes a delta body (<see cref="IsDelta"/>); applying it to its base is <see cref="CheckpointDelta.Apply"/>.</summary>
    /// <param name="body">The body, exactly as long as the anchor says.</param>
    /// <param name="crc">The CRC-32C the anchor records for it.</param>
    /// <param name="blockCount">Blocks of the device.</param>
    /// <param name="pagesPerBlock">Pages a block.</param>
    /// <returns>The delta.</returns>
    /// <exception cref="FileSystemCorruptException">The body is damaged or does not fit the device; the message names the first fault.</exception>
    public static CheckpointDelta DecodeDelta(ReadOnlySpan<byte> body, uint crc, int blockCount, int pagesPerBlock)
    {
        if (Crc32C.Compute(body) != crc)
        {
            throw new FileSystemCorruptException("The delta checkpoint's CRC does not match.");
        }

        var limits = new Limits(blockCount, pagesPerBlock);
        var r = new LittleEndianReader(body, s_short);
        ushort version = 0;
        if (r.U32() != Magic || (version = r.U16()) is < DeltaVersion or > Version)
        {
            throw new FileSystemCorruptException("The delta checkpoint has a wrong magic number or version.");
        }

        bool clean = r.U16() == 1;
        ulong sequence = r.U64();
        uint nextId = r.U32();
        uint nextTxn = r.U32();
        if (r.U32() != (uint)blockCount)
        {
            throw new FileSystemCorruptException("The delta checkpoint's block count does not match the device.");
        }

        uint entryCount = r.U32();
        var hot = ReadHead(ref r, limits);
        var cold = ReadHead(ref r, limits);
        int checkpointNext = limits.Block(r.I32(), allowNone: true);
        if (ReadKind(ref r, version) != KindDelta)
        {
            throw new FileSystemCorruptException("The delta checkpoint is not a delta.");
        }

        ulong baseSequence = r.U64();
        uint baseLength = r.U32();
        uint baseCrc = r.U32();
        uint basePages = r.U32();
        uint baseBlockCount = r.U32();
        if (baseSequence > sequence || basePages == 0 || basePages > (uint)limits.PageCount || baseLength == 0
            || baseBlockCount != (basePages + (uint)pagesPerBlock - 1) / (uint)pagesPerBlock)
        {
            throw new FileSystemCorruptException($"The delta checkpoint's base reference is impossible (sequence {baseSequence}, {baseLength} bytes, {basePages} pages in {baseBlockCount} blocks).");
        }

        var baseBlocks = new int[baseBlockCount];
        for (int k = 0; k < baseBlocks.Length; k++)
        {
            baseBlocks[k] = limits.Block(r.I32(), allowNone: false);
        }

        uint changedCount = r.U32();
        if (changedCount > (uint)blockCount)
        {
            throw new FileSystemCorruptException($"The delta checkpoint lists {changedCount} changed blocks.");
        }

        var changed = new (int Block, CheckpointBlock Entry)[changedCount];
        for (int k = 0; k < changed.Length; k++)
        {
            int b = limits.Block(r.I32(), allowNone: false);
            if (k > 0 && b <= changed[k - 1].Block)
            {
                throw new FileSystemCorruptException("The delta checkpoint lists its changed blocks out of order.");
            }

            changed[k] = (b, ReadBlock(ref r, b));
        }

        var open = ReadOpenTxns(ref r, nextTxn, limits);
        var entries = ImmutableArray.CreateBuilder<CheckpointEntry>((int)Math.Min(entryCount, (uint)body.Length / EntryFixedSize));
        var patches = ImmutableArray.CreateBuilder<CheckpointEntryPatch>();
        var ids = new HashSet<uint>();
        for (uint i = 0; i < entryCount; i++)
        {
            uint id;
            if (r.Remaining >= 8 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(body[(r.Position + 4)..]) == CheckpointEntryPatch.Marker)
            {
                var p = ReadPatch(ref r, limits);
                id = p.Id;
                patches.Add(p);
            }
            else
            {
                var e = ReadEntry(ref r, limits, version);
                id = e.Id;
                entries.Add(e);
            }

            if (!ids.Add(id))
            {
                throw new FileSystemCorruptException($"Entry {id} in the delta checkpoint is malformed or duplicated.");
            }
        }

        uint deletedCount = r.U32();
        if (deletedCount > (uint)r.Remaining / 4)
        {
            throw new FileSystemCorruptException($"The delta checkpoint claims {deletedCount} deleted entries.");
        }

        var deleted = new uint[deletedCount];
        for (int k = 0; k < deleted.Length; k++)
        {
            deleted[k] = r.U32();
            if (deleted[k] == 0 || (k > 0 && deleted[k] <= deleted[k - 1]) || ids.Contains(deleted[k]))
            {
                throw new FileSystemCorruptException($"The delta checkpoint's deleted entry {deleted[k]} is out of order, zero or also listed as changed.");
            }
        }

        if (r.Remaining != 0)
        {
            throw new FileSystemCorruptException("The delta checkpoint has trailing bytes.");
        }

        var header = new CheckpointHeader(clean, sequence, nextId, nextTxn, hot, cold, checkpointNext);
        var reference = new CheckpointBaseRef(baseSequence, (int)baseLength, baseCrc, (int)basePages, ImmutableCollectionsMarshal.AsImmutableArray(baseBlocks));
        return new CheckpointDelta(header, blockCount, reference, ImmutableCollectionsMarshal.AsImmutableArray(changed), open, entries.DrainToImmutable(), ImmutableCollectionsMarshal.AsImmutableArray(deleted), patches.DrainToImmutable());
    }

    /// <summary>An entry patch (its second field is <see cref="CheckpointEntryPatch.Marker"/>): runs ascending, disjoint, within the device.</summary>
    private static CheckpointEntryPatch ReadPatch(ref LittleEndianReader r, Limits limits)
    {
        uint id = r.U32();
        r.U32();
        long size = r.I64();
        ulong modified = r.U64();
        uint count = r.U32();
        if (id == 0 || size < 0 || count > (uint)limits.PageCount || count > (uint)r.Remaining / CheckpointEntryPatch.RunSize)
        {
            throw new FileSystemCorruptException($"The patch of entry {id} in the delta checkpoint is malformed ({size} bytes, {count} runs).");
        }

        var runs = new CheckpointExtent[count];
        for (int k = 0; k < runs.Length; k++)
        {
            uint logical = r.U32();
            int page = r.I32();
            int run = r.I32();
            if (page != -1)
            {
                limits.Page(page);
            }

            if (run <= 0 || (page >= 0 && (long)page + run > limits.PageCount) || (long)logical + run > uint.MaxValue
                || (k > 0 && logical < runs[k - 1].Logical + (uint)runs[k - 1].Count))
            {
                throw new FileSystemCorruptException($"The patch of entry {id} in the delta checkpoint has a run out of order or outside the device.");
            }

            runs[k] = new CheckpointExtent(logical, page, run);
        }

        return new CheckpointEntryPatch(id, size, modified, ImmutableCollectionsMarshal.AsImmutableArray(runs));
    }

    /// <summary>The header's kind byte (version 5 on; 0 before, where the four bytes were reserved and not checked).</summary>
    private static byte ReadKind(ref LittleEndianReader r, ushort version)
    {
        if (version < DeltaVersion)
        {
            r.U32();
            return KindBase;
        }

        byte kind = r.U8();
        if (kind > KindDelta || r.U8() != 0 || r.U16() != 0)
        {
            throw new FileSystemCorruptException($"The checkpoint has an unknown kind {kind} or non-zero reserved bytes.");
        }

        return kind;
    }

    private static CheckpointBlock ReadBlock(ref LittleEndianReader r, int b)
    {
        byte state = r.U8();
        if (state > (byte)BlockState.Retiring)
        {
            throw new FileSystemCorruptException($"Block {b} has an unknown state {state} in the checkpoint.");
        }

        return new CheckpointBlock((BlockState)state, r.U8() == 1, r.U32(), r.U64());
    }

    private static void WriteHead(ref LittleEndianWriter w, CheckpointHead h)
    {
        w.I32(h.Block);
        w.I32(h.WritePointer);
        w.I32(h.ReservedNext);
    }

    private static CheckpointHead ReadHead(ref LittleEndianReader r, Limits limits)
    {
        int block = limits.Block(r.I32(), allowNone: true);
        int writePointer = r.I32();
        int reservedNext = limits.Block(r.I32(), allowNone: true);
        if (writePointer < 0 || writePointer > limits.PagesPerBlock)
        {
            throw new FileSystemCorruptException("A log head in the checkpoint points outside its block.");
        }

        return new CheckpointHead(block, writePointer, reservedNext);
    }

    private static ImmutableArray<CheckpointOpenTxn> ReadOpenTxns(ref LittleEndianReader r, uint nextTxn, Limits limits)
    {
        uint count = r.U32();
        if (count > (uint)limits.PageCount)
        {
            throw new FileSystemCorruptException($"The checkpoint lists {count} open transactions.");
        }

        var list = ImmutableArray.CreateBuilder<CheckpointOpenTxn>((int)count);
        for (uint i = 0; i < count; i++)
        {
            uint id = r.U32();
            uint blocks = r.U32();
            if (id == 0 || id >= nextTxn || blocks > (uint)limits.BlockCount)
            {
                throw new FileSystemCorruptException($"The checkpoint lists an impossible open transaction {id} ({blocks} blocks).");
            }

            var ids = new int[blocks];
            for (int k = 0; k < ids.Length; k++)
            {
                ids[k] = limits.Block(r.I32(), allowNone: false);
            }

            list.Add(new CheckpointOpenTxn(id, ImmutableCollectionsMarshal.AsImmutableArray(ids)));
        }

        return list.MoveToImmutable();
    }

    private static CheckpointEntry ReadEntry(ref LittleEndianReader r, Limits limits, ushort version)
    {
        uint id = r.U32();
        uint parent = r.U32();
        byte kind = r.U8();
        int nameLength = r.U8();
        var name = r.Bytes(nameLength).ToArray();
        if (kind is not (1 or 2) || id == 0)
        {
            throw new FileSystemCorruptException($"Entry {id} in the checkpoint is malformed or duplicated.");
        }

        long size = r.I64();
        ulong modified = r.U64();
        if (size < 0)
        {
            throw new FileSystemCorruptException($"Entry {id} has a negative size.");
        }

        int inlinePage = -1, inlineOffset = 0;
        ImmutableArray<CheckpointExtent> extents = default;
        byte dataKind = r.U8();
        bool hasLost = version >= LostChunksVersion && (dataKind & LostFlag) != 0;
        if (hasLost)
        {
            dataKind &= unchecked((byte)~LostFlag);
            if (kind == 2 || dataKind == 1)
            {
                throw new FileSystemCorruptException($"Entry {id} lists lost chunks but is {(kind == 2 ? "a directory" : "inline")}.");
            }
        }

        switch (dataKind)
        {
            case 0:
                break;
            case 1:
                inlinePage = limits.Page(r.I32());
                inlineOffset = r.U16();
                break;
            case 2:
                uint count = r.U32();
                if (count > (uint)limits.PageCount)
                {
                    throw new FileSystemCorruptException($"Entry {id} claims {count} extents.");
                }

                var list = new CheckpointExtent[count];
                for (uint k = 0; k < count; k++)
                {
                    uint logical = r.U32();
                    int page = limits.Page(r.I32());
                    int run = r.I32();
                    if (run <= 0 || (long)page + run > limits.PageCount)
                    {
                        throw new FileSystemCorruptException($"Entry {id} has an extent outside the device.");
                    }

                    list[k] = new CheckpointExtent(logical, page, run);
                }

                extents = ImmutableCollectionsMarshal.AsImmutableArray(list);
                break;
            default:
                throw new FileSystemCorruptException($"Entry {id} has an unknown data kind.");
        }

        var lost = hasLost ? ReadLost(ref r, id, limits) : [];
        return new CheckpointEntry(id, parent, kind == 2, ImmutableCollectionsMarshal.AsImmutableArray(name), size, modified, inlinePage, inlineOffset, extents, lost);
    }

    /// <summary>An entry's lost-chunk list: at least one chunk, ascending (that none is mapped is checked where the index is built).</summary>
    private static ImmutableArray<uint> ReadLost(ref LittleEndianReader r, uint id, Limits limits)
    {
        uint count = r.U32();
        if (count == 0 || count > (uint)limits.PageCount || count > (uint)r.Remaining / 4)
        {
            throw new FileSystemCorruptException($"Entry {id} claims {count} lost chunks.");
        }

        var chunks = new uint[count];
        for (int k = 0; k < chunks.Length; k++)
        {
            chunks[k] = r.U32();
            if (k > 0 && chunks[k] <= chunks[k - 1])
            {
                throw new FileSystemCorruptException($"Entry {id} lists its lost chunks out of order.");
            }
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(chunks);
    }

    /// <summary>The device a body must fit.</summary>
    private readonly record struct Limits(int BlockCount, int PagesPerBlock)
    {
        public int PageCount => BlockCount * PagesPerBlock;

        public int Block(int block, bool allowNone)
        {
            if ((allowNone && block == -1) || (block >= 0 && block < BlockCount))
            {
                return block;
            }

            throw new FileSystemCorruptException($"The checkpoint names block {block}, which does not exist.");
        }

        public int Page(int page)
        {
            if (page >= 0 && page < PageCount)
            {
                return page;
            }

            throw new FileSystemCorruptException($"The checkpoint names page {page}, which does not exist.");
        }
    }
}

/// <summary>The header fields of a checkpoint (everything before the block table but its counts).</summary>
/// <param name="Clean">Written at a clean unmount.</param>
/// <param name="Sequence">The sequence it describes.</param>
/// <param name="NextId">The next entry id.</param>
/// <param name="NextTxn">The next transaction id.</param>
/// <param name="Hot">The hot head.</param>
/// <param name="Cold">The cold head.</param>
/// <param name="CheckpointNext">The block reserved for the next checkpoint, or -1.</param>
internal readonly record struct CheckpointHeader(bool Clean, ulong Sequence, uint NextId, uint NextTxn, CheckpointHead Hot, CheckpointHead Cold, int CheckpointNext)
{
    /// <summary>The header of a decoded image.</summary>
    /// <param name="image">The image.</param>
    /// <returns>Its header.</returns>
    public static CheckpointHeader Of(CheckpointImage image)
        => new(image.Clean, image.Sequence, image.NextId, image.NextTxn, image.Hot, image.Cold, image.CheckpointNext);
}
