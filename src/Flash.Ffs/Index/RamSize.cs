namespace Flash.Ffs.Index;

/// <summary>
/// Sizes of .NET objects on a 64-bit runtime, for <see cref="FileSystemStatistics.RamBytes"/>: every object carries a
/// 16-byte header (sync block and method table) and is at least 24 bytes; arrays add a length word (24-byte header);
/// everything rounds up to 8 bytes. Collections count their capacity, not their element count.
/// </summary>
internal static class RamSize
{
    /// <summary>A reference field or array element.</summary>
    public const int Reference = 8;

    /// <summary>An object whose fields take <paramref name="fieldBytes"/> bytes.</summary>
    public static long Object(int fieldBytes) => Math.Max(24, 16 + Align(fieldBytes));

    /// <summary>An array of <paramref name="length"/> elements of <paramref name="elementBytes"/> bytes each.</summary>
    public static long Array(int elementBytes, long length) => Align(24 + (elementBytes * length));

    /// <summary>A <see cref="List{T}"/> (items, size, version) and its backing array.</summary>
    public static long List(int elementBytes, int capacity) => Object(16) + (capacity == 0 ? 0 : Array(elementBytes, capacity));

    /// <summary>
    /// A <see cref="Dictionary{TKey, TValue}"/>: the object (buckets, entries, comparer, key and value views, counts),
    /// its bucket array and its entry array (hash code, next index, key, value per entry).
    /// </summary>
    public static long Dictionary(int entryBytes, int capacity) => Object(64) + (capacity == 0 ? 0 : Array(4, capacity) + Array(entryBytes, capacity));

    /// <summary>A <see cref="HashSet{T}"/>: the object, its buckets and its entries (hash code, next index, value).</summary>
    public static long HashSet(int entryBytes, int capacity) => Object(48) + (capacity == 0 ? 0 : Array(4, capacity) + Array(entryBytes, capacity));

    /// <summary>A string of <paramref name="length"/> UTF-16 characters.</summary>
    public static long String(int length) => Align(22 + (2L * length));

    private static long Align(long bytes) => (bytes + 7) & ~7L;
}
