using System.Globalization;

namespace Flash.Svm.Network.Tftp;

/// <summary>Limits the server applies to what clients ask for.</summary>
/// <param name="MaxBlockSize">Largest block size granted (RFC 2348 allows 8–65464).</param>
/// <param name="MaxWindowSize">Largest window granted (RFC 7440 allows 1–65535).</param>
/// <param name="MaxWindowBytes">Largest window in bytes (block size × window) the server buffers per transfer.</param>
public sealed record TftpLimits(int MaxBlockSize = 8192, int MaxWindowSize = 32, int MaxWindowBytes = 256 * 1024);

/// <summary>The parameters of one transfer after option negotiation.</summary>
/// <param name="BlockSize">Block size in bytes.</param>
/// <param name="WindowSize">Blocks sent before waiting for an ACK.</param>
/// <param name="TimeoutSeconds">Retransmission timeout the client asked for, or 0 for the server's default.</param>
/// <param name="Accepted">Options to acknowledge in an OACK (empty: no OACK, data starts at block 1).</param>
public sealed record TftpTransferParameters(int BlockSize, int WindowSize, int TimeoutSeconds, IReadOnlyList<KeyValuePair<string, string>> Accepted);

/// <summary>
/// Option negotiation (RFC 2347/2348/2349/7440) as a pure function. Unknown options and options with values out of the
/// RFC ranges are left out of the OACK (RFC 2347: the server ignores what it does not accept); block size and window
/// are lowered to the server's limits (RFC 2348/7440 let the server answer with smaller values).
/// </summary>
public static class TftpNegotiation
{
    /// <summary>The RFC 1350 block size.</summary>
    public const int DefaultBlockSize = 512;

    /// <summary>Negotiates the options of a read request for a file of a given size.</summary>
    /// <param name="requested">Options as requested.</param>
    /// <param name="fileSize">The size of the file to send.</param>
    /// <param name="limits">Server limits.</param>
    /// <returns>The transfer parameters.</returns>
    public static TftpTransferParameters Negotiate(IReadOnlyList<KeyValuePair<string, string>> requested, long fileSize, TftpLimits limits)
    {
        ArgumentNullException.ThrowIfNull(requested);
        ArgumentNullException.ThrowIfNull(limits);
        int block = DefaultBlockSize, window = 1, timeout = 0;
        var accepted = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in requested)
        {
            if (!seen.Add(name) || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
            {
                continue;
            }

            switch (name)
            {
                case "blksize" when v is >= 8 and <= 65464:
                    block = (int)Math.Min(v, limits.MaxBlockSize);
                    accepted.Add(new(name, block.ToString(CultureInfo.InvariantCulture)));
                    break;
                case "windowsize" when v is >= 1 and <= 65535:
                    window = (int)Math.Min(v, limits.MaxWindowSize);
                    accepted.Add(new(name, window.ToString(CultureInfo.InvariantCulture)));
                    break;
                case "timeout" when v is >= 1 and <= 255:
                    timeout = (int)v;
                    accepted.Add(new(name, value));
                    break;
                case "tsize" when v == 0 && fileSize > 0:
                    // An empty file's tsize is left out: curl rejects "tsize 0" in an OACK as illegal.
                    accepted.Add(new(name, fileSize.ToString(CultureInfo.InvariantCulture)));
                    break;
                default:
                    break;
            }
        }

        // Keep the per-transfer buffer bounded: shrink the window first, never below one block.
        window = Math.Max(1, Math.Min(window, limits.MaxWindowBytes / block));
        for (int i = 0; i < accepted.Count; i++)
        {
            if (accepted[i].Key == "windowsize")
            {
                accepted[i] = new("windowsize", window.ToString(CultureInfo.InvariantCulture));
            }
        }

        return new TftpTransferParameters(block, window, timeout, accepted);
    }
}
