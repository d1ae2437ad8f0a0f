using Flash.Ffs.Format;

namespace Flash.Svm.Sgc;

/// <summary>
/// The one encoding of a <see cref="SoftwareVersion"/> in every SVM record and message: major, minor, patch as three
/// little-endian u16 (6 bytes), on the shared <see cref="LittleEndianWriter"/> and <see cref="LittleEndianReader"/>.
/// </summary>
public static class SoftwareVersionCodec
{
    /// <summary>Encoded size in bytes.</summary>
    public const int EncodedLength = 6;

    /// <summary>Writes a version.</summary>
    /// <param name="writer">The record being written.</param>
    /// <param name="version">The version.</param>
    public static void Version(this ref LittleEndianWriter writer, SoftwareVersion version)
    {
        writer.U16(version.Major);
        writer.U16(version.Minor);
        writer.U16(version.Patch);
    }

    /// <summary>Reads a version.</summary>
    /// <param name="reader">The record being read; an overrun throws its codec's exception.</param>
    /// <returns>The version.</returns>
    public static SoftwareVersion Version(this ref LittleEndianReader reader)
    {
        ushort major = reader.U16();
        ushort minor = reader.U16();
        return new SoftwareVersion(major, minor, reader.U16());
    }
}
