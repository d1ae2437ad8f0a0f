using System.Buffers.Binary;
using System.IO.Hashing;
using Flash.Svm.Sgc;

namespace Flash.Svm.Security;

/// <summary>
/// The node's persistent security state, one 32-byte record per device (<see cref="SvmLayout.SecurityState"/> in the
/// current area, so it is mirrored, resynchronised and carried with the configuration at every activation; it is not a
/// configuration file). Little-endian: 0 magic "SVSC" (u32); 4 format version (u16, 1); 6 flags (u16, bit 0: a trial is
/// pending); 8 anti-rollback floor (u64, a security counter); 16 trial release (3 × u16); 22 trial attempts left (u16);
/// 24 reserved (u32, 0); 28 CRC-32C of bytes 0..27 (u32). See <c>docs/sgc.md</c>.
/// </summary>
/// <param name="Floor">The lowest security counter a release may have to be installed or activated (raised when a release commits).</param>
/// <param name="TrialPending">Whether a trial boot is under way.</param>
/// <param name="TrialRelease">The release on trial.</param>
/// <param name="AttemptsLeft">Trial boot attempts not yet started (decremented durably before each attempt).</param>
public sealed record SecurityState(ulong Floor, bool TrialPending = false, SoftwareVersion TrialRelease = default, int AttemptsLeft = 0)
{
    /// <summary>Encoded size in bytes.</summary>
    public const int EncodedLength = 32;

    /// <summary>The format version written by this library.</summary>
    public const ushort FormatVersion = 1;

    private const uint Magic = 0x43535653; // "SVSC"

    /// <summary>No floor and no trial (a volume written before the record existed).</summary>
    public static SecurityState None { get; } = new(0);

    /// <summary>Encodes the record.</summary>
    /// <returns>The 32 bytes.</returns>
    public byte[] Encode()
    {
        var b = new byte[EncodedLength];
        var s = b.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(s[6..], (ushort)(TrialPending ? 1 : 0));
        BinaryPrimitives.WriteUInt64LittleEndian(s[8..], Floor);
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], TrialRelease.Major);
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], TrialRelease.Minor);
        BinaryPrimitives.WriteUInt16LittleEndian(s[20..], TrialRelease.Patch);
        BinaryPrimitives.WriteUInt16LittleEndian(s[22..], (ushort)Math.Clamp(AttemptsLeft, 0, ushort.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(s[28..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, s[..28]));
        return b;
    }

    /// <summary>Decodes a record.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The record, or null when the bytes are not a valid record of a known version.</returns>
    public static SecurityState? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length != EncodedLength || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(data[4..]) != FormatVersion
            || BinaryPrimitives.ReadUInt32LittleEndian(data[28..]) != Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data[..28]))
        {
            return null;
        }

        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        var release = new SoftwareVersion(BinaryPrimitives.ReadUInt16LittleEndian(data[16..]), BinaryPrimitives.ReadUInt16LittleEndian(data[18..]), BinaryPrimitives.ReadUInt16LittleEndian(data[20..]));
        return new SecurityState(BinaryPrimitives.ReadUInt64LittleEndian(data[8..]), (flags & 1) != 0, release, BinaryPrimitives.ReadUInt16LittleEndian(data[22..]));
    }

    /// <inheritdoc />
    public override string ToString()
        => $"floor {Floor:x}" + (TrialPending ? $", trial of {TrialRelease} with {AttemptsLeft} attempt(s) left" : "");
}
