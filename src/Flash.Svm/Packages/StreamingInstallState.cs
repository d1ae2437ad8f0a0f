using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Flash.Ffs.Format;

namespace Flash.Svm.Packages;

/// <summary>
/// The durable progress of a streaming install, <c>install/state</c> in the alternate context (layout: docs/sgc.md
/// "Install state record"). Written in the same atomic commit (per device) as the header, each stored slice of a
/// component and the verified trailer, so it never claims more than is stored. It names the upgrade command it belongs to (a hash of
/// the transfer source and path, and the resolved mode): a repeated command continues, another one starts over.
/// </summary>
/// <param name="Identity">SHA-256 of the transfer source kind, a zero byte and the path (UTF-8).</param>
/// <param name="Mode">The resolved upgrade mode (full or partial).</param>
/// <param name="Format">Package format version.</param>
/// <param name="Total">Bytes in the whole package file.</param>
/// <param name="Durable">Bytes of the package whose effect is stored: the header, every component and slice of one up to here (it may lie inside a component), and at <paramref name="Total"/> the verified trailer.</param>
/// <param name="Validator">The server's identity of the file, or null.</param>
internal sealed record StreamingInstallState(byte[] Identity, UpgradeMode Mode, ushort Format, long Total, long Durable, string? Validator)
{
    /// <summary>Path of the record in the alternate context.</summary>
    public const string Path = "install/state";

    /// <summary>The package header, stored with the first record.</summary>
    public const string HeaderPath = "install/header";

    /// <summary>The verified trailer (signed envelope), stored when the last byte arrived.</summary>
    public const string TrailerPath = "install/trailer";

    /// <summary>Prefix of the install's own files (never part of a software set).</summary>
    public const string Prefix = "install/";

    /// <summary>Magic number <c>SVIS</c>.</summary>
    public const uint Magic = 0x53495653;

    /// <summary>Record format version.</summary>
    public const ushort Version = 1;

    private const int FixedSize = 64;

    /// <summary>Whether the trailer arrived and verified: only the local steps remain.</summary>
    public bool Downloaded => Durable == Total;

    /// <summary>The identity of an upgrade command's transfer parameters (credentials excluded).</summary>
    /// <param name="transfer">The parameters.</param>
    /// <returns>32 bytes.</returns>
    public static byte[] IdentityOf(TransferParameters transfer)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        return SHA256.HashData(Encoding.UTF8.GetBytes(transfer.Source + "\0" + transfer.Path));
    }

    /// <summary>Encodes the record.</summary>
    /// <returns>The bytes.</returns>
    public byte[] Encode()
    {
        var tag = Encoding.UTF8.GetBytes(Validator ?? "");
        if (tag.Length > ushort.MaxValue)
        {
            throw new ArgumentException("The validator is too long.");
        }

        var data = new byte[FixedSize + tag.Length + 4];
        var w = new LittleEndianWriter(data);
        w.U32(Magic);
        w.U16(Version);
        w.U16(Validator is null ? (ushort)0 : (ushort)1);
        w.Bytes(Identity.AsSpan(0, 32));
        w.U8((byte)Mode);
        w.U8(0);
        w.U16(Format);
        w.I64(Total);
        w.I64(Durable);
        w.U16(0);
        w.U16((ushort)tag.Length);
        w.Bytes(tag);
        w.AppendCrc32C();
        return data;
    }

    /// <summary>Decodes a record; null when it is damaged, of another version, or inconsistent.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The record or null.</returns>
    public static StreamingInstallState? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length < FixedSize + 4 || Crc32C.Compute(data[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]))
        {
            return null;
        }

        var r = new LittleEndianReader(data, static () => new SvmFormatException("Install state record: unexpected end of data."));
        if (r.U32() != Magic || r.U16() != Version)
        {
            return null;
        }

        var flags = r.U16();
        var identity = r.Bytes(32).ToArray();
        var mode = (UpgradeMode)r.U8();
        r.Skip(1);
        var format = r.U16();
        var total = r.I64();
        var durable = r.I64();
        r.Skip(2);
        var tagLength = r.U16();
        if (FixedSize + tagLength + 4 != data.Length || (flags & ~1) != 0 || mode is not (UpgradeMode.Full or UpgradeMode.Partial)
            || total < 0 || durable < 0 || durable > total)
        {
            return null;
        }

        var validator = (flags & 1) != 0 ? Encoding.UTF8.GetString(r.Bytes(tagLength)) : null;
        return new StreamingInstallState(identity, mode, format, total, durable, validator);
    }

    /// <summary>Whether this record belongs to the same command.</summary>
    /// <param name="identity">The command's identity.</param>
    /// <param name="mode">Its resolved mode.</param>
    /// <returns>True when the install may continue.</returns>
    public bool BelongsTo(ReadOnlySpan<byte> identity, UpgradeMode mode) => identity.SequenceEqual(Identity) && mode == Mode;
}
