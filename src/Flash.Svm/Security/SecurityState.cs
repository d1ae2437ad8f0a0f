using Flash.Ffs.Format;
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

    private const ushort TrialPendingFlag = 1;

    /// <summary>No floor and no trial (a volume written before the record existed).</summary>
    public static SecurityState None { get; } = new(0);

    /// <summary>Encodes the record.</summary>
    /// <returns>The 32 bytes.</returns>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        var w = new LittleEndianWriter(bytes);
        w.U32(Magic);
        w.U16(FormatVersion);
        w.U16(TrialPending ? TrialPendingFlag : (ushort)0);
        w.U64(Floor);
        w.Version(TrialRelease);
        w.U16((ushort)Math.Clamp(AttemptsLeft, 0, ushort.MaxValue));
        w.U32(0); // reserved
        w.AppendCrc32C();
        return bytes;
    }

    /// <summary>Decodes a record.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The record, or null when the bytes are not a valid record of a known version.</returns>
    public static SecurityState? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length != EncodedLength)
        {
            return null;
        }

        // The length was checked, so the reader cannot overrun; the factory only satisfies its contract.
        var r = new LittleEndianReader(data, static () => new SvmFormatException("Security state record is truncated."));
        if (r.U32() != Magic || r.U16() != FormatVersion)
        {
            return null;
        }

        ushort flags = r.U16();
        ulong floor = r.U64();
        var release = r.Version();
        ushort attempts = r.U16();
        r.Skip(4); // reserved
        return Crc32C.Compute(r.Consumed) == r.U32() ? new SecurityState(floor, (flags & TrialPendingFlag) != 0, release, attempts) : null;
    }

    /// <inheritdoc />
    public override string ToString()
        => $"floor {Floor:x}" + (TrialPending ? $", trial of {TrialRelease} with {AttemptsLeft} attempt(s) left" : "");
}
