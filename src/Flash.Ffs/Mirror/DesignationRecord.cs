using System.Buffers.Binary;
using System.IO.Hashing;

namespace Flash.Ffs.Mirror;

/// <summary>
/// The record each device of a pair keeps in <see cref="Path"/>: the pair id, the device's own id, which device is
/// primary and a generation that grows with every re-designation. Layout (little-endian, 68 bytes): 0 magic "PAIR"
/// (u32); 4 version (u16); 6 reserved (u16); 8 pair id (16); 24 device id (16); 40 primary id (16); 56 generation
/// (u64); 64 CRC-32C of bytes 0..63 (u32).
/// </summary>
/// <param name="PairId">The pair the device belongs to.</param>
/// <param name="DeviceId">The device itself.</param>
/// <param name="PrimaryId">The device designated primary.</param>
/// <param name="Generation">Grows with every re-designation; the highest valid one wins.</param>
public sealed record DesignationRecord(Guid PairId, Guid DeviceId, Guid PrimaryId, ulong Generation)
{
    /// <summary>Where the record lives on each device.</summary>
    public const string Path = "/system/pair";

    /// <summary>Encoded size.</summary>
    public const int EncodedLength = 68;

    private const uint Magic = 0x52494150; // "PAIR"

    /// <summary>Encodes the record.</summary>
    /// <returns>The bytes.</returns>
    public byte[] Encode()
    {
        var b = new byte[EncodedLength];
        var s = b.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], 1);
        PairId.TryWriteBytes(s.Slice(8, 16));
        DeviceId.TryWriteBytes(s.Slice(24, 16));
        PrimaryId.TryWriteBytes(s.Slice(40, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(s[56..], Generation);
        BinaryPrimitives.WriteUInt32LittleEndian(s[64..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, s[..64]));
        return b;
    }

    /// <summary>Decodes a record.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The record, or null when the bytes are not a valid record.</returns>
    public static DesignationRecord? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length != EncodedLength || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(data[4..]) != 1
            || BinaryPrimitives.ReadUInt32LittleEndian(data[64..]) != Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data[..64]))
        {
            return null;
        }

        return new DesignationRecord(new Guid(data.Slice(8, 16)), new Guid(data.Slice(24, 16)), new Guid(data.Slice(40, 16)), BinaryPrimitives.ReadUInt64LittleEndian(data[56..]));
    }
}
