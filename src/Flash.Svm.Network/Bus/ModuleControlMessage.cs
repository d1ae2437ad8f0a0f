using System.Buffers.Binary;
using System.Text;
using Flash.Ffs.Format;
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
        var w = LittleEndianWriter.Growable(64 + ((Components?.Count ?? 0) * 64));
        try
        {
            w.U32(Magic);
            w.U8(Version);
            w.U8((byte)Kind);
            w.U32(Sequence);
            w.Length8(Encoding.UTF8.GetBytes(Module.ModuleType));
            w.I32(Module.Slot);
            if (Kind == ModuleControlKind.Health)
            {
                w.U8((byte)Health);
            }

            w.Version(Release);
            if (Kind == ModuleControlKind.Init)
            {
                var list = Components ?? [];
                w.U16(checked((ushort)list.Count));
                foreach (var c in list)
                {
                    w.Length8(Encoding.ASCII.GetBytes(c.Name));
                    w.I64(c.Size);
                    w.Bytes(c.Sha256);
                }
            }

            w.AppendCrc32C();
            return w.Written.ToArray();
        }
        finally
        {
            w.Dispose();
        }
    }

    /// <summary>Parses a datagram.</summary>
    /// <param name="data">The datagram.</param>
    /// <param name="message">The message.</param>
    /// <returns>False for anything malformed (magic, version, CRC, lengths, values).</returns>
    public static bool TryParse(ReadOnlySpan<byte> data, out ModuleControlMessage? message)
    {
        message = null;
        if (data.Length < 20 || Crc32C.Compute(data[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]))
        {
            return false;
        }

        var r = new LittleEndianReader(data[..^4], static () => new InvalidDataException("Malformed module control message."));
        try
        {
            if (r.U32() != Magic || r.U8() != Version)
            {
                return false;
            }

            var kind = (ModuleControlKind)r.U8();
            uint seq = r.U32();
            string type = Encoding.UTF8.GetString(r.Length8());
            var module = new ModuleAddress(type, r.I32());
            switch (kind)
            {
                case ModuleControlKind.Health:
                    var health = (ModuleHealth)r.U8();
                    if (!Enum.IsDefined(health))
                    {
                        return false;
                    }

                    var loaded = r.Version();
                    if (r.Remaining != 0)
                    {
                        return false;
                    }

                    message = new(kind, seq, module, loaded, health);
                    return true;
                case ModuleControlKind.Init:
                    var release = r.Version();
                    int count = r.U16();
                    var list = new List<InitComponent>(count);
                    for (int i = 0; i < count; i++)
                    {
                        string name = Encoding.ASCII.GetString(r.Length8());
                        long size = r.I64();
                        list.Add(new InitComponent(name, size, r.Bytes(32).ToArray()));
                    }

                    if (r.Remaining != 0)
                    {
                        return false;
                    }

                    message = new(kind, seq, module, release, Components: list);
                    return true;
                default:
                    return false;
            }
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }
}
