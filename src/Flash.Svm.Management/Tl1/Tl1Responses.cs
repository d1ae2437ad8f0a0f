using System.Globalization;
using System.Text;

namespace Flash.Svm.Management.Tl1;

/// <summary>Alarm code of an autonomous message (GR-831: <c>*C</c> critical, <c>**</c> major, <c>*</c> minor, <c>A</c> non-alarm).</summary>
public enum Tl1AlarmCode
{
    /// <summary>Non-alarmed event (<c>A</c>).</summary>
    Event,
    /// <summary>Minor (<c>*</c>).</summary>
    Minor,
    /// <summary>Major (<c>**</c>).</summary>
    Major,
    /// <summary>Critical (<c>*C</c>).</summary>
    Critical,
}

/// <summary>Formats TL1 output messages (GR-831): the header, the response identification or autonomous line, text blocks and <c>;</c>.</summary>
/// <param name="sid">The system identifier (the node's TID).</param>
/// <param name="time">The clock for the header's date and time.</param>
public sealed class Tl1Formatter(string sid, TimeProvider time)
{
    /// <summary>The system identifier.</summary>
    public string Sid => sid;

    /// <summary>A COMPLD response with optional quoted text lines.</summary>
    /// <param name="ctag">The command's CTAG.</param>
    /// <param name="lines">Response lines (each is sent quoted).</param>
    /// <returns>The message.</returns>
    public string Completed(string ctag, IEnumerable<string>? lines = null) => Response(ctag, "COMPLD", lines, null, null);

    /// <summary>A DENY response with its error code and an explanation as a comment.</summary>
    /// <param name="ctag">The command's CTAG.</param>
    /// <param name="code">The four-letter error code.</param>
    /// <param name="explanation">Why.</param>
    /// <returns>The message.</returns>
    public string Denied(string ctag, string code, string explanation) => Response(ctag, "DENY", null, code, explanation);

    /// <summary>The in-progress acknowledgment of a long command.</summary>
    /// <param name="ctag">The command's CTAG.</param>
    /// <returns>The acknowledgment.</returns>
    public static string InProgress(string ctag) => $"IP {ctag}\r\n<";

    /// <summary>An autonomous message (REPT ...).</summary>
    /// <param name="code">Alarm code.</param>
    /// <param name="atag">The autonomous tag.</param>
    /// <param name="verb">Verb and modifiers, e.g. <c>REPT EVT FXFR</c>.</param>
    /// <param name="lines">Lines (each sent quoted).</param>
    /// <returns>The message.</returns>
    public string Autonomous(Tl1AlarmCode code, long atag, string verb, IEnumerable<string> lines)
    {
        var sb = Header();
        string c = code switch { Tl1AlarmCode.Critical => "*C", Tl1AlarmCode.Major => "**", Tl1AlarmCode.Minor => "* ", _ => "A " };
        sb.Append(CultureInfo.InvariantCulture, $"{c} {atag} {verb}\r\n");
        foreach (var l in lines)
        {
            sb.Append("   \"").Append(Escape(l)).Append("\"\r\n");
        }

        return sb.Append(';').ToString();
    }

    private string Response(string ctag, string completion, IEnumerable<string>? lines, string? code, string? explanation)
    {
        var sb = Header();
        sb.Append("M  ").Append(ctag).Append(' ').Append(completion).Append("\r\n");
        if (code is not null)
        {
            sb.Append("   ").Append(code).Append("\r\n");
        }

        if (explanation is not null)
        {
            sb.Append("   /* ").Append(explanation.Replace("*/", "* /", StringComparison.Ordinal)).Append(" */\r\n");
        }

        foreach (var l in lines ?? [])
        {
            sb.Append("   \"").Append(Escape(l)).Append("\"\r\n");
        }

        return sb.Append(';').ToString();
    }

    private StringBuilder Header()
    {
        var now = time.GetUtcNow();
        return new StringBuilder().Append("\r\n\n   ").Append(sid).Append(' ')
            .Append(now.ToString("yy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append("\r\n");
    }

    /// <summary>Inside a quoted text block a quote is escaped; control characters are dropped.</summary>
    private static string Escape(string s) => new(s.Where(c => c is >= ' ' and <= '~').SelectMany(c => c == '"' ? "\\\"" : c.ToString()).ToArray());
}
