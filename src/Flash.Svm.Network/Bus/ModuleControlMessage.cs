using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Flash.Svm.Node;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Bus;

/// <summary>Kinds of module control messages.</summary>
public enum ModuleControlKind : byte
{
    /// <summary>SMP → module: the init command (release and the components to load, with their digests).</summary>
    Init = 1,
    /// <summary>Module → SMP: a health report (answers an init and repeats while the module runs).</summary>
    Health = 2,
}

/// <summary>One component named in an init command.</summary>
/// <param name="Name">Component (TFTP file) name.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Sha256">SHA-256 the module checks the fetched file against.</param>
public sealed record InitComponent(string Name, long Size, byte[] Sha256);

/// <summary>
/// The module control protocol over UDP (docs/network.md): little-endian, magic <c>FMCP</c>, u8 version 1, u8 kind,
/// u32 init sequence number, u8 length + UTF-8 module type, i32 slot, then the kind's body, then CRC-32C of all
/// preceding bytes. Init body: u16×3 release, u16 count, per component u8 length + name, i64 size, 32-byte SHA-256.
/// Health body: u8 health (<see cref="ModuleHealth"/>), u16×3 release loaded.
/// </summary>
public sealed record ModuleControlMessage(ModuleControlKind Kind, uint Sequence, ModuleAddress Module, SoftwareVersion Release, ModuleHealth Health = ModuleHealth.Down, IReadOnlyList<InitComponent>? Components = null)
{
    /// <summary>Protocol version.</summary>
    public const byte Version = 1;

    private const uint Magic = 0x50434D46; // "FMCP"

    /// <summary>Serialises the message.</summary>
    /// <returns>The datagram.</returns>
    public byte[] ToBytes()
    {
        var ms = new MemoryStream();
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(b, Magic);
        ms.Write(b[..4]);
        ms.WriteByte(Version);
        ms.WriteByte((byte)Kind);
        BinaryPrimitives.WriteUInt32LittleEndian(b, Sequence);
        ms.Write(b[..4]);
        var type = Encoding.UTF8.GetBytes(Module.ModuleType);
        ms.WriteByte(checked((byte)type.Length));
        ms.Write(type);
        BinaryPrimitives.WriteInt32LittleEndian(b, Module.Slot);
        ms.Write(b[..4]);
        if (Kind == ModuleControlKind.Health)
        {
            ms.WriteByte((byte)Health);
        }

        WriteVersion(ms, Release);
        if (Kind == ModuleControlKind.Init)
        {
            var list = Components ?? [];
            BinaryPrimitives.WriteUInt16LittleEndian(b, checked((ushort)list.Count));
            ms.Write(b[..2]);
            foreach (var c in list)
            {
                var n = Encoding.ASCII.GetBytes(c.Name);
                ms.WriteByte(checked((byte)n.Length));
                ms.Write(n);
                BinaryPrimitives.WriteInt64LittleEndian(b, c.Size);
                ms.Write(b);
                ms.Write(c.Sha256);
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(b, Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, ms.GetBuffer().AsSpan(0, (int)ms.Length)));
        ms.Write(b[..4]);
        return ms.ToArray();
    }

    /// <summary>Parses a datagram.</summary>
    /// <param name="data">The datagram.</param>
    /// <param name="message">The message.</param>
    /// <returns>False for anything malformed (magic, version, CRC, lengths, values).</returns>
    public static bool TryParse(ReadOnlySpan<byte> data, out ModuleControlMessage? message)
    {
        message = null;
        if (data.Length < 20 || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic || data[4] != Version
            || Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]))
        {
            return false;
        }

        try
        {
            var kind = (ModuleControlKind)data[5];
            uint seq = BinaryPrimitives.ReadUInt32LittleEndian(data[6..]);
            var r = data[10..^4];
            string type = Encoding.UTF8.GetString(r.Slice(1, r[0]));
            r = r[(1 + r[0])..];
            int slot = BinaryPrimitives.ReadInt32LittleEndian(r);
            r = r[4..];
            var module = new ModuleAddress(type, slot);
            switch (kind)
            {
                case ModuleControlKind.Health:
                    var health = (ModuleHealth)r[0];
                    if (!Enum.IsDefined(health))
                    {
                        return false;
                    }

                    message = new(kind, seq, module, ReadVersion(r[1..]), health);
                    return r.Length == 7;
                case ModuleControlKind.Init:
                    var release = ReadVersion(r);
                    int count = BinaryPrimitives.ReadUInt16LittleEndian(r[6..]);
                    r = r[8..];
                    var list = new List<InitComponent>(count);
                    for (int i = 0; i < count; i++)
                    {
                        string name = Encoding.ASCII.GetString(r.Slice(1, r[0]));
                        r = r[(1 + r[0])..];
                        list.Add(new InitComponent(name, BinaryPrimitives.ReadInt64LittleEndian(r), r.Slice(8, 32).ToArray()));
                        r = r[40..];
                    }

                    message = new(kind, seq, module, release, Components: list);
                    return r.IsEmpty;
                default:
                    return false;
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static void WriteVersion(MemoryStream ms, SoftwareVersion v)
    {
        Span<byte> b = stackalloc byte[6];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v.Major);
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], v.Minor);
        BinaryPrimitives.WriteUInt16LittleEndian(b[4..], v.Patch);
        ms.Write(b);
    }

    private static SoftwareVersion ReadVersion(ReadOnlySpan<byte> b) =>
        new(BinaryPrimitives.ReadUInt16LittleEndian(b), BinaryPrimitives.ReadUInt16LittleEndian(b[2..]), BinaryPrimitives.ReadUInt16LittleEndian(b[4..]));
}
