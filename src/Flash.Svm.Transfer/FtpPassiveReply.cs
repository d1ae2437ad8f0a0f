using System.Globalization;

namespace Flash.Svm.Transfer;

/// <summary>Parses the port out of <c>229</c> (EPSV) and <c>227</c> (PASV) replies. Pure functions.</summary>
internal static class FtpPassiveReply
{
    /// <summary>Parses <c>Entering Extended Passive Mode (|||port|)</c>.</summary>
    public static bool TryParseEpsv(string text, out int port)
    {
        port = 0;
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = open < 0 ? -1 : text.IndexOf(')', open);
        if (close < open + 5)
        {
            return false;
        }

        var inner = text.AsSpan(open + 1, close - open - 1);
        var delimiter = inner[0];
        if (inner.Length < 5 || inner[1] != delimiter || inner[2] != delimiter || inner[^1] != delimiter)
        {
            return false;
        }

        return int.TryParse(inner[3..^1], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
    }

    /// <summary>Parses <c>Entering Passive Mode (h1,h2,h3,h4,p1,p2)</c>; the address is ignored on purpose.</summary>
    public static bool TryParsePasv(string text, out int port)
    {
        port = 0;
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = open < 0 ? -1 : text.IndexOf(')', open);
        if (close <= open)
        {
            return false;
        }

        var parts = text[(open + 1)..close].Split(',');
        if (parts.Length != 6
            || !int.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var high)
            || !int.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var low)
            || high > 255 || low > 255)
        {
            return false;
        }

        port = (high << 8) | low;
        return port > 0;
    }
}
