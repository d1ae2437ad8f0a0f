using System.IO.Hashing;

namespace Flash.Ffs.Log;

/// <summary>CRC-32C (Castagnoli), the checksum of every on-flash record.</summary>
internal static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);
}
