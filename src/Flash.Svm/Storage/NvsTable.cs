using Flash.Svm.Sgc;

namespace Flash.Svm.Storage;

/// <summary>State of the alternate context area.</summary>
public enum AlternateState : byte
{
    /// <summary>Nothing installed.</summary>
    Empty = 0,
    /// <summary>A download is in progress; after a crash this means invalid.</summary>
    Writing = 1,
    /// <summary>Fully written and verified: may be trial-booted or exchanged.</summary>
    Complete = 2,
    /// <summary>A cancelled, failed or rejected software set.</summary>
    Invalid = 3,
}

/// <summary>Role of a device in the redundant pair.</summary>
public enum NvsRole : byte
{
    /// <summary>The designated copy: modules are loaded from it.</summary>
    Primary = 1,
    /// <summary>The backup copy.</summary>
    Secondary = 2,
}

/// <summary>
/// The per-device context table: which area is current, the alternate's state, the alternate boot flag and trial
/// attempts, and the device's role in the pair. Written atomically (one file, replaced with the file system's
/// atomic <c>WriteAllBytes</c>); little-endian, versioned, CRC-32C.
/// </summary>
public sealed record NvsTable
{
    /// <summary>Magic number <c>SVMT</c>.</summary>
    public const uint Magic = 0x544D5653;

    /// <summary>Format version.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>Incremented on every write; the higher sequence wins when the two devices disagree about roles.</summary>
    public ulong Sequence { get; init; }

    /// <summary>The device's role.</summary>
    public NvsRole Role { get; init; } = NvsRole.Primary;

    /// <summary>Index (0 or 1) of the current context area.</summary>
    public int CurrentArea { get; init; }

    /// <summary>Index of the alternate context area.</summary>
    public int AlternateArea => 1 - CurrentArea;

    /// <summary>The alternate's state.</summary>
    public AlternateState Alternate { get; init; }

    /// <summary>Release in the current area.</summary>
    public SoftwareVersion CurrentRelease { get; init; }

    /// <summary>Release in the alternate area (meaningful when not <see cref="AlternateState.Empty"/>).</summary>
    public SoftwareVersion AlternateRelease { get; init; }

    /// <summary>When set, the next init boots the alternate context once (trial boot).</summary>
    public bool AlternateBoot { get; init; }

    /// <summary>Trial attempts left for the alternate.</summary>
    public int TrialAttemptsLeft { get; init; }

    /// <summary>Serialises the table.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToBytes()
    {
        var w = new BinWriter();
        w.U32(Magic);
        w.U16(FormatVersion);
        w.U64(Sequence);
        w.U8((byte)Role);
        w.U8((byte)CurrentArea);
        w.U8((byte)Alternate);
        w.U8(AlternateBoot ? (byte)1 : (byte)0);
        w.U16((ushort)TrialAttemptsLeft);
        w.Version(CurrentRelease);
        w.Version(AlternateRelease);
        return w.ToArrayWithCrc();
    }

    /// <summary>Parses a table.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The table.</returns>
    /// <exception cref="SvmFormatException">Corrupt or unknown.</exception>
    public static NvsTable Parse(ReadOnlySpan<byte> data)
    {
        var r = new BinReader(Crc.CheckTrailer(data, "Context table"));
        if (r.U32() != Magic || r.U16() != FormatVersion)
        {
            throw new SvmFormatException("Not a context table of a supported version.");
        }

        var t = new NvsTable
        {
            Sequence = r.U64(),
            Role = (NvsRole)r.U8(),
            CurrentArea = r.U8(),
            Alternate = (AlternateState)r.U8(),
            AlternateBoot = r.U8() == 1,
            TrialAttemptsLeft = r.U16(),
            CurrentRelease = r.Version(),
            AlternateRelease = r.Version(),
        };
        return t.CurrentArea > 1 || t.Alternate > AlternateState.Invalid || t.Role is not (NvsRole.Primary or NvsRole.Secondary)
            ? throw new SvmFormatException("Context table field out of range.")
            : t;
    }

    /// <inheritdoc />
    public override string ToString()
        => $"seq {Sequence} {Role}: current area {CurrentArea} ({CurrentRelease}), alternate {Alternate}" +
           (Alternate == AlternateState.Empty ? "" : $" ({AlternateRelease})") + (AlternateBoot ? $", alternate boot flag set ({TrialAttemptsLeft} attempt(s))" : "");
}
