using System.Net;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Network.Tftp;

/// <summary>Settings of a <see cref="TftpServer"/>.</summary>
public sealed class TftpServerOptions
{
    /// <summary>Address and port to listen on (port 0 picks a free port; the standard port is 69).</summary>
    public IPEndPoint Endpoint { get; init; } = new(IPAddress.Loopback, 69);

    /// <summary>The module slots: a request is served only to a known module address, and only its mapped components.</summary>
    public required ModulePlan Plan { get; init; }

    /// <summary>Limits on negotiated options.</summary>
    public TftpLimits Limits { get; init; } = new();

    /// <summary>Retransmission timeout when the client does not negotiate one (RFC 2349 timeout).</summary>
    public TimeSpan RetransmitTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Retransmissions of the same window before the transfer is abandoned.</summary>
    public int MaxRetransmissions { get; init; } = 5;

    /// <summary>Transfers served at once; more requests get an error packet until one ends.</summary>
    public int MaxTransfers { get; init; } = 64;

    /// <summary>Logger.</summary>
    public ILogger? Logger { get; init; }
}

/// <summary>Counters of a <see cref="TftpServer"/> (read with <see cref="TftpServer.Statistics"/>).</summary>
/// <param name="Started">Transfers started.</param>
/// <param name="Completed">Transfers completed (last block acknowledged, digest matched).</param>
/// <param name="Aborted">Transfers aborted (timeout, client error, digest mismatch, read failure).</param>
/// <param name="Refused">Requests answered with an error packet.</param>
/// <param name="Dropped">Packets dropped without an answer (malformed, duplicates of an active request).</param>
/// <param name="BytesSent">Payload bytes sent, retransmissions included.</param>
/// <param name="Retransmissions">Windows retransmitted after a timeout.</param>
public sealed record TftpStatistics(long Started, long Completed, long Aborted, long Refused, long Dropped, long BytesSent, long Retransmissions);
