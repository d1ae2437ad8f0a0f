using System.Numerics;

namespace Flash.Ffs.Index;

/// <summary>
/// The entries whose ids share all but the low <see cref="Shift"/> bits: a bit per id says which exist, their records
/// are packed in id order (an entry's place is the count of set bits below its own), and their names are one byte run
/// in the same order. A full page of 64 costs 28 bytes a record plus the name bytes and under a byte an entry of
/// overhead; a page holding a few scattered ids stays small because both arrays grow with the entries.
/// </summary>
/// <remarks>
/// The bytes of the name run in use are never changed in place (the run is replaced), so a span a caller holds over an
/// entry's name stays what it read. While a table is bulk-loaded (<see cref="NodeTable.AppendUnordered"/>) the run may
/// have spare room past the names, which appends fill; <see cref="Trim"/> drops it when loading ends, so the RAM of a
/// loaded table is that of one built entry by entry.
/// </remarks>
internal sealed class NodePage
{
    public const int Shift = 6;
    public const int Size = 1 << Shift;

    private static readonly NodeRecord[] NoRecords = [];

    public NodePage(uint key) => Key = key;

    /// <summary>The ids' high bits: the page holds ids Key * 64 to Key * 64 + 63.</summary>
    public uint Key { get; }

    /// <summary>Bit i set: id Key * 64 + i exists.</summary>
    public ulong Bits { get; private set; }

    public int Count => BitOperations.PopCount(Bits);

    public NodeRecord[] Records { get; private set; } = NoRecords;

    public byte[] Names { get; private set; } = [];

    /// <summary>RAM held: this object and its two arrays.</summary>
    public long RamBytes => RamSize.Object(8 + 4 + (2 * RamSize.Reference)) + RamSize.Array(NodeRecord.Bytes, Records.Length) + RamSize.Array(1, Names.Length);

    /// <summary>The place of an id's record, or -1.</summary>
    public int RankOf(int bit)
    {
        ulong mask = 1UL << bit;
        return (Bits & mask) == 0 ? -1 : BitOperations.PopCount(Bits & (mask - 1));
    }

    /// <summary>Where the name of the record at <paramref name="rank"/> starts.</summary>
    public int NameStart(int rank)
    {
        int start = 0;
        var records = Records;
        for (int i = 0; i < rank; i++)
        {
            start += records[i].NameLength;
        }

        return start;
    }

    public ReadOnlySpan<byte> NameAt(int rank) => Names.AsSpan(NameStart(rank), Records[rank].NameLength);

    /// <summary>Name bytes in use (the run may have spare room after them while loading).</summary>
    public int NameBytes => NameStart(Count);

    /// <summary>Adds the record of a new id (its bit must be clear).</summary>
    /// <param name="bit">The id's low bits.</param>
    /// <param name="record">The record.</param>
    /// <param name="name">The UTF-8 name.</param>
    /// <param name="spare">Bulk loading: leave room in the name run for more appends (one copy per doubling instead of
    /// one per entry); <see cref="Trim"/> removes it.</param>
    public void Insert(int bit, in NodeRecord record, ReadOnlySpan<byte> name, bool spare = false)
    {
        int count = Count;
        int rank = BitOperations.PopCount(Bits & ((1UL << bit) - 1));

        // Where the name goes and the bytes in use, read from the records before they shift.
        int at = NameStart(rank);
        int used = rank == count ? at : NameStart(count);
        var records = Records;
        if (count == records.Length)
        {
            var grown = new NodeRecord[Math.Min(Size, Math.Max(2, count * 2))];
            Array.Copy(records, grown, count);
            records = grown;
        }

        if (rank < count)
        {
            Array.Copy(records, rank, records, rank + 1, count - rank);
        }

        records[rank] = record;
        records[rank].NameLength = (byte)name.Length;
        Records = records;
        if (spare && rank == count && Names.Length - used >= name.Length)
        {
            // An append into spare room: the bytes in use stay as they are.
            name.CopyTo(Names.AsSpan(used));
        }
        else
        {
            var names = new byte[spare ? Math.Max(used + name.Length, 2 * Names.Length) : used + name.Length];
            Names.AsSpan(0, at).CopyTo(names);
            name.CopyTo(names.AsSpan(at));
            Names.AsSpan(at, used - at).CopyTo(names.AsSpan(at + name.Length));
            Names = names;
        }

        Bits |= 1UL << bit;
    }

    /// <summary>Drops the spare room bulk loading left after the names.</summary>
    public void Trim()
    {
        int used = NameBytes;
        if (Names.Length > used)
        {
            Names = Names.AsSpan(0, used).ToArray();
        }
    }

    /// <summary>Removes the record at a bit (which must be set).</summary>
    public void Delete(int bit)
    {
        int rank = RankOf(bit);
        int count = Count;
        int at = NameStart(rank);
        int length = Records[rank].NameLength;
        int used = NameStart(count);
        var names = new byte[used - length];
        Names.AsSpan(0, at).CopyTo(names);
        Names.AsSpan(at + length, used - at - length).CopyTo(names.AsSpan(at));
        Names = names;
        var records = Records;
        if (count - 1 <= records.Length / 4)
        {
            var shrunk = count == 1 ? NoRecords : new NodeRecord[Math.Max(2, records.Length / 2)];
            Array.Copy(records, shrunk, rank);
            Array.Copy(records, rank + 1, shrunk, rank, count - rank - 1);
            Records = shrunk;
        }
        else
        {
            Array.Copy(records, rank + 1, records, rank, count - rank - 1);
            records[count - 1] = default;
        }

        Bits &= ~(1UL << bit);
    }

    /// <summary>Replaces the name of the record at <paramref name="rank"/>.</summary>
    public void Rename(int rank, ReadOnlySpan<byte> name)
    {
        int at = NameStart(rank);
        int length = Records[rank].NameLength;
        int used = NameBytes;
        var names = new byte[used - length + name.Length];
        Names.AsSpan(0, at).CopyTo(names);
        name.CopyTo(names.AsSpan(at));
        Names.AsSpan(at + length, used - at - length).CopyTo(names.AsSpan(at + name.Length));
        Names = names;
        Records[rank].NameLength = (byte)name.Length;
    }
}
