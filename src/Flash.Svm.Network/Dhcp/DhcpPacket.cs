using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;

namespace Flash.Svm.Network.Dhcp;

/// <summary>DHCP message types (option 53, RFC 2132 §9.6).</summary>
public enum DhcpMessageType : byte
{
    /// <summary>Not a DHCP message (plain BOOTP).</summary>
    None = 0,
    /// <summary>DHCPDISCOVER.</summary>
    Discover = 1,
    /// <summary>DHCPOFFER.</summary>
    Offer = 2,
    /// <summary>DHCPREQUEST.</summary>
    Request = 3,
    /// <summary>DHCPDECLINE.</summary>
    Decline = 4,
    /// <summary>DHCPACK.</summary>
    Ack = 5,
    /// <summary>DHCPNAK.</summary>
    Nak = 6,
    /// <summary>DHCPRELEASE.</summary>
    Release = 7,
    /// <summary>DHCPINFORM.</summary>
    Inform = 8,
}

/// <summary>DHCP option codes the server reads or writes (RFC 2132).</summary>
public static class DhcpOption
{
    /// <summary>Pad.</summary>
    public const byte Pad = 0;
    /// <summary>Subnet mask.</summary>
    public const byte SubnetMask = 1;
    /// <summary>Router.</summary>
    public const byte Router = 3;
    /// <summary>Domain name servers.</summary>
    public const byte DnsServers = 6;
    /// <summary>Host name.</summary>
    public const byte HostName = 12;
    /// <summary>Requested IP address.</summary>
    public const byte RequestedAddress = 50;
    /// <summary>Lease time.</summary>
    public const byte LeaseTime = 51;
    /// <summary>Message type.</summary>
    public const byte MessageType = 53;
    /// <summary>Server identifier.</summary>
    public const byte ServerId = 54;
    /// <summary>Parameter request list.</summary>
    public const byte ParameterList = 55;
    /// <summary>Message (text, in NAK).</summary>
    public const byte Message = 56;
    /// <summary>Vendor class identifier.</summary>
    public const byte VendorClass = 60;
    /// <summary>Client identifier.</summary>
    public const byte ClientId = 61;
    /// <summary>TFTP server name.</summary>
    public const byte TftpServer = 66;
    /// <summary>Boot file name.</summary>
    public const byte BootFile = 67;
    /// <summary>End.</summary>
    public const byte End = 255;
}

/// <summary>
/// A BOOTP/DHCP message (RFC 2131 §2): the fixed 236-byte header, the magic cookie and the options. Parsing is strict
/// about lengths (a truncated header or an option running past the end rejects the message).
/// </summary>
public sealed class DhcpPacket
{
    /// <summary>Size of the fixed header before the magic cookie.</summary>
    public const int HeaderLength = 236;

    /// <summary>The magic cookie 99.130.83.99.</summary>
    public const uint MagicCookie = 0x63825363;

    /// <summary>1 = BOOTREQUEST, 2 = BOOTREPLY.</summary>
    public byte Op { get; set; }

    /// <summary>Hardware type (1 = Ethernet).</summary>
    public byte HardwareType { get; set; } = 1;

    /// <summary>Hardware address length.</summary>
    public byte HardwareLength { get; set; } = 6;

    /// <summary>Transaction id.</summary>
    public uint TransactionId { get; set; }

    /// <summary>Seconds since the client began.</summary>
    public ushort Seconds { get; set; }

    /// <summary>Flags (bit 15: broadcast).</summary>
    public ushort Flags { get; set; }

    /// <summary>Client address (when bound/renewing).</summary>
    public IPAddress ClientAddress { get; set; } = IPAddress.Any;

    /// <summary>"Your" address: the one offered.</summary>
    public IPAddress YourAddress { get; set; } = IPAddress.Any;

    /// <summary>Next server (TFTP) address.</summary>
    public IPAddress ServerAddress { get; set; } = IPAddress.Any;

    /// <summary>Relay agent address.</summary>
    public IPAddress RelayAddress { get; set; } = IPAddress.Any;

    /// <summary>Client hardware address (16 bytes on the wire).</summary>
    public byte[] ClientHardware { get; set; } = new byte[16];

    /// <summary>Boot file name (BOOTP <c>file</c> field).</summary>
    public string BootFile { get; set; } = "";

    /// <summary>Options in order (code, value), without pad and end.</summary>
    public List<KeyValuePair<byte, byte[]>> Options { get; } = [];

    /// <summary>The message type, or <see cref="DhcpMessageType.None"/> for BOOTP.</summary>
    public DhcpMessageType MessageType => Option(DhcpOption.MessageType) is [var t] ? (DhcpMessageType)t : DhcpMessageType.None;

    /// <summary>The client's MAC address when the hardware type is Ethernet.</summary>
    public PhysicalAddress? Mac => HardwareType == 1 && HardwareLength == 6 ? new PhysicalAddress(ClientHardware[..6]) : null;

    /// <summary>The first value of an option, or null.</summary>
    /// <param name="code">Option code.</param>
    /// <returns>The value.</returns>
    public byte[]? Option(byte code)
    {
        foreach (var (k, v) in Options)
        {
            if (k == code)
            {
                return v;
            }
        }

        return null;
    }

    /// <summary>An IPv4 address option, or null when absent or not 4 bytes.</summary>
    /// <param name="code">Option code.</param>
    /// <returns>The address.</returns>
    public IPAddress? AddressOption(byte code) => Option(code) is { Length: 4 } v ? new IPAddress(v) : null;

    /// <summary>Parses a message.</summary>
    /// <param name="data">The UDP payload.</param>
    /// <param name="packet">The message.</param>
    /// <returns>False when it is not a well-formed BOOTP/DHCP message.</returns>
    public static bool TryParse(ReadOnlySpan<byte> data, out DhcpPacket? packet)
    {
        packet = null;
        if (data.Length < HeaderLength + 4 || BinaryPrimitives.ReadUInt32BigEndian(data[HeaderLength..]) != MagicCookie)
        {
            return false;
        }

        var p = new DhcpPacket
        {
            Op = data[0],
            HardwareType = data[1],
            HardwareLength = data[2],
            TransactionId = BinaryPrimitives.ReadUInt32BigEndian(data[4..]),
            Seconds = BinaryPrimitives.ReadUInt16BigEndian(data[8..]),
            Flags = BinaryPrimitives.ReadUInt16BigEndian(data[10..]),
            ClientAddress = new IPAddress(data.Slice(12, 4)),
            YourAddress = new IPAddress(data.Slice(16, 4)),
            ServerAddress = new IPAddress(data.Slice(20, 4)),
            RelayAddress = new IPAddress(data.Slice(24, 4)),
            ClientHardware = data.Slice(28, 16).ToArray(),
            BootFile = CString(data.Slice(108, 128)),
        };
        if (p.Op is not (1 or 2) || p.HardwareLength > 16)
        {
            return false;
        }

        var o = data[(HeaderLength + 4)..];
        while (!o.IsEmpty)
        {
            byte code = o[0];
            if (code == DhcpOption.Pad)
            {
                o = o[1..];
                continue;
            }

            if (code == DhcpOption.End)
            {
                break;
            }

            if (o.Length < 2 || o.Length < 2 + o[1])
            {
                return false;
            }

            p.Options.Add(new(code, o.Slice(2, o[1]).ToArray()));
            o = o[(2 + o[1])..];
        }

        packet = p;
        return true;
    }

    /// <summary>Writes the message (options padded to the BOOTP minimum of 300 bytes in total).</summary>
    /// <param name="destination">At least 576 bytes.</param>
    /// <returns>Bytes written.</returns>
    public int Write(Span<byte> destination)
    {
        destination[..Math.Min(destination.Length, 576)].Clear();
        destination[0] = Op;
        destination[1] = HardwareType;
        destination[2] = HardwareLength;
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], TransactionId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], Seconds);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], Flags);
        ClientAddress.TryWriteBytes(destination.Slice(12, 4), out _);
        YourAddress.TryWriteBytes(destination.Slice(16, 4), out _);
        ServerAddress.TryWriteBytes(destination.Slice(20, 4), out _);
        RelayAddress.TryWriteBytes(destination.Slice(24, 4), out _);
        ClientHardware.AsSpan(0, Math.Min(16, ClientHardware.Length)).CopyTo(destination[28..]);
        for (int i = 0; i < Math.Min(BootFile.Length, 127); i++)
        {
            destination[108 + i] = (byte)BootFile[i];
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination[HeaderLength..], MagicCookie);
        int at = HeaderLength + 4;
        foreach (var (code, value) in Options)
        {
            if (at + 2 + value.Length >= destination.Length)
            {
                throw new InvalidOperationException("DHCP options do not fit the message.");
            }

            destination[at] = code;
            destination[at + 1] = (byte)value.Length;
            value.CopyTo(destination[(at + 2)..]);
            at += 2 + value.Length;
        }

        destination[at++] = DhcpOption.End;
        return Math.Max(at, 300);
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        int z = field.IndexOf((byte)0);
        var s = z < 0 ? field : field[..z];
        var chars = new char[s.Length];
        for (int i = 0; i < s.Length; i++)
        {
            chars[i] = s[i] is >= 0x20 and < 0x7f ? (char)s[i] : '?';
        }

        return new string(chars);
    }
}
