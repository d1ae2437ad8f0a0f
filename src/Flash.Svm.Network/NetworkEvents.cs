using Microsoft.Extensions.Logging;

namespace Flash.Svm.Network;

/// <summary>Event ids the network servers log with (4000–4199: TFTP 40xx, DHCP 41xx... see docs/network.md).</summary>
public static class NetworkEvents
{
    /// <summary>A server started listening.</summary>
    public static readonly EventId ServerStarted = new(4000, nameof(ServerStarted));
    /// <summary>A server stopped.</summary>
    public static readonly EventId ServerStopped = new(4001, nameof(ServerStopped));
    /// <summary>A TFTP read request was accepted and a transfer started.</summary>
    public static readonly EventId TftpTransferStarted = new(4010, nameof(TftpTransferStarted));
    /// <summary>A TFTP transfer completed: every block acknowledged and the digest matched.</summary>
    public static readonly EventId TftpTransferCompleted = new(4011, nameof(TftpTransferCompleted));
    /// <summary>A TFTP transfer was aborted (timeout, client error, read failure).</summary>
    public static readonly EventId TftpTransferAborted = new(4012, nameof(TftpTransferAborted));
    /// <summary>A TFTP request was refused with an error packet.</summary>
    public static readonly EventId TftpRequestRefused = new(4013, nameof(TftpRequestRefused));
    /// <summary>A malformed packet was dropped.</summary>
    public static readonly EventId MalformedPacket = new(4014, nameof(MalformedPacket));
    /// <summary>A component did not match its SGC digest while it was served.</summary>
    public static readonly EventId DigestMismatch = new(4015, nameof(DigestMismatch));
    /// <summary>A component was repaired on the primary from the secondary after a digest mismatch.</summary>
    public static readonly EventId ComponentHealed = new(4016, nameof(ComponentHealed));
    /// <summary>A DHCP lease was offered.</summary>
    public static readonly EventId DhcpOffer = new(4100, nameof(DhcpOffer));
    /// <summary>A DHCP lease was acknowledged.</summary>
    public static readonly EventId DhcpAck = new(4101, nameof(DhcpAck));
    /// <summary>A DHCP request was refused (NAK).</summary>
    public static readonly EventId DhcpNak = new(4102, nameof(DhcpNak));
    /// <summary>A client declined its address.</summary>
    public static readonly EventId DhcpDecline = new(4103, nameof(DhcpDecline));
    /// <summary>A client released its lease.</summary>
    public static readonly EventId DhcpRelease = new(4104, nameof(DhcpRelease));
    /// <summary>A client sent INFORM.</summary>
    public static readonly EventId DhcpInform = new(4105, nameof(DhcpInform));
    /// <summary>A DHCP message was ignored (unknown client, other subnet, not for this server).</summary>
    public static readonly EventId DhcpIgnored = new(4106, nameof(DhcpIgnored));
    /// <summary>An FTP session started.</summary>
    public static readonly EventId FtpSession = new(4150, nameof(FtpSession));
    /// <summary>An FTP file was sent.</summary>
    public static readonly EventId FtpTransfer = new(4151, nameof(FtpTransfer));
    /// <summary>A network module reported its health.</summary>
    public static readonly EventId ModuleHealth = new(4180, nameof(ModuleHealth));
    /// <summary>A network module was sent the init command.</summary>
    public static readonly EventId ModuleInit = new(4181, nameof(ModuleInit));
}
