using Flash.Ffs.Format;

namespace Flash.Ffs.Mirror;

/// <summary>
/// The record each device of a pair keeps at <see cref="PairMetadataStore.DesignationPath"/>: the pair id, the device's
/// own id, which device is primary and a generation that grows with every re-designation. Layout (little-endian,
/// 68 bytes): 0 magic "PAIR" (u32); 4 version (u16); 6 reserved (u16); 8 pair id (16); 24 device id (16); 40 primary
/// id (16); 56 generation (u64); 64 CRC-32C of bytes 0..63 (u32). Documented byte by byte in docs/contexts.md.
/// </summary>
/// <param name="PairId">The pair the device belongs to.</param>
/// <param name="DeviceId">The device itself.</param>
/// <param name="PrimaryId">The device designated primary.</param>
/// <param name="Generation">Grows with every re-designation; the highest valid one wins.</param>
public sealed record DesignationRecord(Guid PairId, Guid DeviceId, Guid PrimaryId, ulong Generation)
{
    /// <summary>Encoded size.</summary>
    public const int EncodedLength = 68;

    private const uint Magic = 0x52494150; // "PAIR"
    private const ushort Version = 1;
    private const int GuidLength = 16;

    /// <summary>Encodes the record.</summary>
    /// <returns>The bytes.</returns>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        var w = new LittleEndianWriter(bytes);
        w.U32(Magic);
        w.U16(Version);
        w.U16(0);
        w.Bytes(PairId.ToByteArray());
        w.Bytes(DeviceId.ToByteArray());
        w.Bytes(PrimaryId.ToByteArray());

        w.U64(Generation);
        w.AppendCrc32C();
        return bytes;
    }

    /// <summary>Decodes a record.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The record, or null when the bytes are not a valid record (wrong length, magic, version or CRC).</returns>
    public static DesignationRecord? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length != EncodedLength || Crc32C.Compute(data[..(EncodedLength - 4)]) != System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data[(EncodedLength - 4)..]))
        {
            return null;
        }

        // The length is checked above, so the reader cannot overrun.
        var r = new LittleEndianReader(data, static () => new InvalidDataException("A designation record ended early."));
        if (r.U32() != Magic || r.U16() != Version)
        {
            return null;
        }

        r.Skip(2);
        var pair = new Guid(r.Bytes(GuidLength));
        var device = new Guid(r.Bytes(GuidLength));
        var primary = new Guid(r.Bytes(GuidLength));
        return new DesignationRecord(pair, device, primary, r.U64());
    }
}
