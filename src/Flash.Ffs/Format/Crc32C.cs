using System.IO.Hashing;

namespace Flash.Ffs.Format;

/// <summary>
/// CRC-32C (Castagnoli, reflected, initial and final XOR 0xFFFFFFFF), the one checksum of every on-flash record and
/// package format in Flash, file system, contexts and SVM alike. Hardware-accelerated where the CPU offers it.
/// </summary>
public static class Crc32C
{
    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The checksum.</returns>
    public static uint Compute(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);

    /// <summary>An incremental CRC-32C, for data that arrives in pieces (a streamed package, a file).</summary>
    /// <returns>A fresh hasher; <c>GetCurrentHashAsUInt32</c> gives the value.</returns>
    public static Crc32 CreateIncremental() => new(Crc32ParameterSet.Crc32C);
}
