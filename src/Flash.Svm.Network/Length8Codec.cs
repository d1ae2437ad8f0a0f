using Flash.Ffs.Format;

namespace Flash.Svm.Network;

/// <summary>
/// Short byte strings with a one-byte length, as the lease file and the module control protocol carry them (module
/// types, MAC addresses, client ids, component names), on the shared little-endian codec.
/// </summary>
internal static class Length8Codec
{
    /// <summary>Writes the length as one byte, then the bytes.</summary>
    /// <exception cref="OverflowException">More than 255 bytes.</exception>
    public static void Length8(this ref LittleEndianWriter writer, ReadOnlySpan<byte> value)
    {
        writer.U8(checked((byte)value.Length));
        writer.Bytes(value);
    }

    /// <summary>Reads what <see cref="Length8(ref LittleEndianWriter, ReadOnlySpan{byte})"/> wrote (a slice, not a copy).</summary>
    public static ReadOnlySpan<byte> Length8(this ref LittleEndianReader reader) => reader.Bytes(reader.U8());
}
