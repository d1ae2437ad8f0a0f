using System.Buffers.Binary;
using System.Text;

namespace Flash.Svm.Network.Tftp;

/// <summary>TFTP opcodes (RFC 1350, OACK from RFC 2347).</summary>
public enum TftpOpcode : ushort
{
    /// <summary>Read request.</summary>
    ReadRequest = 1,
    /// <summary>Write request.</summary>
    WriteRequest = 2,
    /// <summary>Data block.</summary>
    Data = 3,
    /// <summary>Acknowledgement.</summary>
    Ack = 4,
    /// <summary>Error.</summary>
    Error = 5,
    /// <summary>Option acknowledgement.</summary>
    OptionAck = 6,
}

/// <summary>TFTP error codes (RFC 1350, 8 from RFC 2347).</summary>
public enum TftpError : ushort
{
    /// <summary>Not defined, see the message.</summary>
    Undefined = 0,
    /// <summary>File not found.</summary>
    FileNotFound = 1,
    /// <summary>Access violation.</summary>
    AccessViolation = 2,
    /// <summary>Disk full.</summary>
    DiskFull = 3,
    /// <summary>Illegal TFTP operation.</summary>
    IllegalOperation = 4,
    /// <summary>Unknown transfer id.</summary>
    UnknownTransferId = 5,
    /// <summary>File already exists.</summary>
    FileExists = 6,
    /// <summary>No such user.</summary>
    NoSuchUser = 7,
    /// <summary>Option negotiation refused.</summary>
    OptionRefused = 8,
}

/// <summary>A parsed read or write request: file name, mode and the options in the order sent (names lower-cased).</summary>
/// <param name="Opcode">RRQ or WRQ.</param>
/// <param name="FileName">The file name.</param>
/// <param name="Mode">The transfer mode, lower-cased.</param>
/// <param name="Options">Options as sent (name lower-cased, value as sent).</param>
public sealed record TftpRequest(TftpOpcode Opcode, string FileName, string Mode, IReadOnlyList<KeyValuePair<string, string>> Options);

/// <summary>Encodes and decodes TFTP packets. Pure; the encoders write into caller buffers and allocate nothing.</summary>
public static class TftpPacket
{
    /// <summary>Largest request accepted (a request fits one 512-byte segment in practice; RFC 2347 allows more).</summary>
    public const int MaxRequestLength = 1024;

    /// <summary>The opcode of a packet, or null when it is shorter than an opcode.</summary>
    /// <param name="packet">The packet.</param>
    /// <returns>The opcode value.</returns>
    public static TftpOpcode? OpcodeOf(ReadOnlySpan<byte> packet) => packet.Length < 2 ? null : (TftpOpcode)BinaryPrimitives.ReadUInt16BigEndian(packet);

    /// <summary>Parses a RRQ/WRQ.</summary>
    /// <param name="packet">The packet.</param>
    /// <param name="request">The request.</param>
    /// <returns>False when the packet is not a well-formed request (no terminators, empty name, odd option list, non-ASCII text).</returns>
    public static bool TryParseRequest(ReadOnlySpan<byte> packet, out TftpRequest? request)
    {
        request = null;
        if (packet.Length < 4 || packet.Length > MaxRequestLength || packet[^1] != 0)
        {
            return false;
        }

        var op = (TftpOpcode)BinaryPrimitives.ReadUInt16BigEndian(packet);
        if (op is not (TftpOpcode.ReadRequest or TftpOpcode.WriteRequest))
        {
            return false;
        }

        var fields = new List<string>();
        var rest = packet[2..];
        while (!rest.IsEmpty)
        {
            int z = rest.IndexOf((byte)0);
            if (z < 0)
            {
                return false;
            }

            var field = rest[..z];
            foreach (byte b in field)
            {
                if (b is < 0x20 or > 0x7e)
                {
                    return false;
                }
            }

            fields.Add(Encoding.ASCII.GetString(field));
            rest = rest[(z + 1)..];
        }

        if (fields.Count < 2 || fields.Count % 2 != 0 || fields[0].Length == 0)
        {
            return false;
        }

        var options = new List<KeyValuePair<string, string>>();
        for (int i = 2; i < fields.Count; i += 2)
        {
            options.Add(new(fields[i].ToLowerInvariant(), fields[i + 1]));
        }

        request = new TftpRequest(op, fields[0], fields[1].ToLowerInvariant(), options);
        return true;
    }

    /// <summary>Parses an ACK.</summary>
    /// <param name="packet">The packet.</param>
    /// <param name="block">The acknowledged block number.</param>
    /// <returns>False when the packet is not an ACK of exactly 4 bytes.</returns>
    public static bool TryParseAck(ReadOnlySpan<byte> packet, out ushort block)
    {
        block = 0;
        if (packet.Length != 4 || OpcodeOf(packet) != TftpOpcode.Ack)
        {
            return false;
        }

        block = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        return true;
    }

    /// <summary>Writes the 4-byte DATA header.</summary>
    /// <param name="destination">At least 4 bytes.</param>
    /// <param name="block">Block number.</param>
    public static void WriteDataHeader(Span<byte> destination, ushort block)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Data);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], block);
    }

    /// <summary>Writes an ACK.</summary>
    /// <param name="destination">At least 4 bytes.</param>
    /// <param name="block">Block number.</param>
    /// <returns>4.</returns>
    public static int WriteAck(Span<byte> destination, ushort block)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Ack);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], block);
        return 4;
    }

    /// <summary>Writes an ERROR packet; the message is truncated to fit and non-ASCII characters become '?'.</summary>
    /// <param name="destination">The buffer (at least 5 bytes).</param>
    /// <param name="code">Error code.</param>
    /// <param name="message">Message.</param>
    /// <returns>Bytes written.</returns>
    public static int WriteError(Span<byte> destination, TftpError code, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Error);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)code);
        int n = Math.Min(message.Length, Math.Min(destination.Length - 5, 255));
        for (int i = 0; i < n; i++)
        {
            char ch = message[i];
            destination[4 + i] = ch is >= ' ' and <= '~' ? (byte)ch : (byte)'?';
        }

        destination[4 + n] = 0;
        return 5 + n;
    }

    /// <summary>Writes an OACK with the given options.</summary>
    /// <param name="destination">The buffer.</param>
    /// <param name="options">Accepted options and their values.</param>
    /// <returns>Bytes written.</returns>
    public static int WriteOptionAck(Span<byte> destination, IReadOnlyList<KeyValuePair<string, string>> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.OptionAck);
        int at = 2;
        foreach (var (k, v) in options)
        {
            at += Encoding.ASCII.GetBytes(k, destination[at..]);
            destination[at++] = 0;
            at += Encoding.ASCII.GetBytes(v, destination[at..]);
            destination[at++] = 0;
        }

        return at;
    }

    /// <summary>Parses an ERROR packet (for clients and tests).</summary>
    /// <param name="packet">The packet.</param>
    /// <param name="code">Error code.</param>
    /// <param name="message">Message.</param>
    /// <returns>False when it is not an error packet.</returns>
    public static bool TryParseError(ReadOnlySpan<byte> packet, out TftpError code, out string message)
    {
        code = 0;
        message = "";
        if (packet.Length < 4 || OpcodeOf(packet) != TftpOpcode.Error)
        {
            return false;
        }

        code = (TftpError)BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        var text = packet[4..];
        int z = text.IndexOf((byte)0);
        message = Encoding.ASCII.GetString(z < 0 ? text : text[..z]);
        return true;
    }
}
