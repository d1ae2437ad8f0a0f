using System.Text;

namespace Flash.Ffs.Contexts;

/// <summary>
/// The context table of one device: which area is current, the state of each area, the alternate-boot flag with its
/// retry count, a version label per area, a generation that grows with every commit and the sequence number of the
/// last mirrored transaction applied to the device.
/// </summary>
/// <remarks>
/// <para>Encoded as a 100-byte little-endian record protected by CRC-32C (see <see cref="Encode"/>). A device keeps
/// two copies (<see cref="ContextLayout.TableCopy0"/>, <see cref="ContextLayout.TableCopy1"/>); each commit writes
/// the copy selected by the parity of the new generation, in the same atomic file-system transaction as the change it
/// describes. At mount the valid copy with the highest generation wins.</para>
/// </remarks>
public sealed record ContextTable
{
    /// <summary>Size of the encoded record in bytes.</summary>
    public const int EncodedLength = 100;

    /// <summary>Most UTF-8 bytes a version label may take.</summary>
    public const int MaxLabelBytes = 32;

    /// <summary>The format version this code writes.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>Grows by one with every committed change of the table.</summary>
    public ulong Generation { get; init; }

    /// <summary>The sequence number (transaction id) of the last mirrored change applied to this device; 0 when none.</summary>
    public ulong Sequence { get; init; }

    /// <summary>The area the node runs from.</summary>
    public ContextArea Current { get; init; }

    /// <summary>The area that receives the next version.</summary>
    public ContextArea Alternate => Current.Other();

    /// <summary>State of <see cref="ContextArea.Area0"/>.</summary>
    public ContextState State0 { get; init; }

    /// <summary>State of <see cref="ContextArea.Area1"/>.</summary>
    public ContextState State1 { get; init; }

    /// <summary>Version label of <see cref="ContextArea.Area0"/> (empty when none).</summary>
    public string Label0 { get; init; } = "";

    /// <summary>Version label of <see cref="ContextArea.Area1"/> (empty when none).</summary>
    public string Label1 { get; init; } = "";

    /// <summary>Whether the next boot should run the alternate context.</summary>
    public bool AlternateBoot { get; init; }

    /// <summary>How many more boots of the alternate may be attempted while <see cref="AlternateBoot"/> is set.</summary>
    public int BootRetries { get; init; }

    /// <summary>State of the current area.</summary>
    public ContextState CurrentState => StateOf(Current);

    /// <summary>State of the alternate area.</summary>
    public ContextState AlternateState => StateOf(Alternate);

    /// <summary>The table of a freshly formatted device: <see cref="ContextArea.Area0"/> current, both areas invalid.</summary>
    public static ContextTable Initial { get; } = new() { Generation = 1, Current = ContextArea.Area0 };

    /// <summary>The state of an area.</summary>
    /// <param name="area">The area.</param>
    /// <returns>Its state.</returns>
    public ContextState StateOf(ContextArea area) => area == ContextArea.Area0 ? State0 : State1;

    /// <summary>The version label of an area.</summary>
    /// <param name="area">The area.</param>
    /// <returns>Its label.</returns>
    public string LabelOf(ContextArea area) => area == ContextArea.Area0 ? Label0 : Label1;

    /// <summary>A copy with one area's state changed.</summary>
    /// <param name="area">The area.</param>
    /// <param name="state">Its new state.</param>
    /// <returns>The new table (same generation).</returns>
    public ContextTable WithState(ContextArea area, ContextState state)
        => area == ContextArea.Area0 ? this with { State0 = state } : this with { State1 = state };

    /// <summary>A copy with one area's label changed.</summary>
    /// <param name="area">The area.</param>
    /// <param name="label">Its new label (at most <see cref="MaxLabelBytes"/> UTF-8 bytes).</param>
    /// <returns>The new table (same generation).</returns>
    public ContextTable WithLabel(ContextArea area, string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (Encoding.UTF8.GetByteCount(label) > MaxLabelBytes)
        {
            throw new ArgumentException($"A version label takes at most {MaxLabelBytes} UTF-8 bytes.", nameof(label));
        }

        return area == ContextArea.Area0 ? this with { Label0 = label } : this with { Label1 = label };
    }

    /// <summary>
    /// Encodes the table. Layout (little-endian): 0 magic "CTXT" (u32); 4 format version (u16); 6 current area (u8);
    /// 7 flags (u8, bit 0 = alternate boot); 8 generation (u64); 16 sequence (u64); 24 state of area 0 (u8);
    /// 25 state of area 1 (u8); 26 boot retries (u16); 28 reserved (u32, 0); 32 label of area 0 (32 bytes UTF-8,
    /// zero padded); 64 label of area 1 (32 bytes); 96 CRC-32C of bytes 0..95 (u32).
    /// </summary>
    /// <returns>The <see cref="EncodedLength"/> bytes.</returns>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        ContextTableCodec.Encode(this, bytes);
        return bytes;
    }

    /// <summary>Decodes an encoded table.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ContextTableCorruptException">Wrong length, magic, version, CRC or field value.</exception>
    public static ContextTable Decode(ReadOnlySpan<byte> data)
        => TryDecode(data, out var table, out string? error) ? table : throw new ContextTableCorruptException(error);

    /// <summary>Decodes an encoded table without throwing.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="table">The table when valid.</param>
    /// <param name="error">Why it is not valid.</param>
    /// <returns>Whether the bytes hold a valid table.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> data, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ContextTable? table, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
        => ContextTableCodec.TryDecode(data, out table, out error);

    /// <summary>A one-line description for logs.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
        => $"gen {Generation} seq {Sequence}: current {Current} ({CurrentState} '{LabelOf(Current)}'), alternate {Alternate} ({AlternateState} '{LabelOf(Alternate)}'), boot-alternate {AlternateBoot} retries {BootRetries}";
}
