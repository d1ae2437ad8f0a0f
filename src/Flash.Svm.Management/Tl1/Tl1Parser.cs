namespace Flash.Svm.Management.Tl1;

/// <summary>
/// Parses one TL1 input message (without its terminating <c>;</c>). A pure function: bad input raises a
/// <see cref="Tl1Exception"/> with <c>IISP</c> (syntax), <c>IICT</c> (correlation tag) or <c>IPNV</c>
/// (parameter block), and the CTAG when it could be read (<see cref="TryReadCtag"/>) so the DENY can carry it.
/// </summary>
public static class Tl1Parser
{
    /// <summary>Longest input message accepted, in bytes (the agent refuses longer ones unread).</summary>
    public const int MaxMessageLength = 8192;

    /// <summary>Longest identifier (verb, modifier, TID, parameter name).</summary>
    public const int MaxIdentifier = 20;

    /// <summary>Longest correlation tag.</summary>
    public const int MaxCtag = 6;

    /// <summary>Most parameters in a message.</summary>
    public const int MaxParameters = 32;

    /// <summary>Parses a message.</summary>
    /// <param name="text">The message without the terminating <c>;</c>.</param>
    /// <returns>The command.</returns>
    /// <exception cref="Tl1Exception">The message is malformed.</exception>
    public static Tl1Command Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxMessageLength)
        {
            throw new Tl1Exception(Tl1Errors.InvalidSyntax, $"input longer than {MaxMessageLength} characters");
        }

        foreach (char c in text)
        {
            if (c is < ' ' and not '\r' and not '\n' and not '\t' || c > '~')
            {
                throw new Tl1Exception(Tl1Errors.InvalidSyntax, "input holds a character that is not printable ASCII");
            }
        }

        var blocks = Split(text.Trim(), ':');
        if (blocks.Count < 4)
        {
            throw new Tl1Exception(Tl1Errors.InvalidSyntax, "expected VERB:TID:AID:CTAG");
        }

        var code = blocks[0].Trim().ToUpperInvariant();
        var parts = code.Split('-');
        if (parts.Length > 3 || parts.Any(p => !IsIdentifier(p)))
        {
            throw new Tl1Exception(Tl1Errors.InvalidSyntax, "the command code must be VERB[-MOD1[-MOD2]] of letters and digits");
        }

        var tid = blocks[1].Trim().ToUpperInvariant();
        if (tid.Length > 0 && !IsIdentifier(tid))
        {
            throw new Tl1Exception(Tl1Errors.InvalidTid, "the TID must be letters, digits and '-'");
        }

        var aid = blocks[2].Trim();
        if (aid.Length > 64 || aid.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '@' or '&' or '_' or '.')))
        {
            throw new Tl1Exception(Tl1Errors.InvalidAid, "the AID is malformed");
        }

        var ctag = blocks[3].Trim();
        if (!IsCtag(ctag))
        {
            throw new Tl1Exception(Tl1Errors.InvalidCtag, "the CTAG must be 1 to 6 letters or digits");
        }

        // Block 4 is the general block (unused here); the payload follows in blocks 5 and on.
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        var positional = new List<string>();
        for (int b = 5; b < blocks.Count; b++)
        {
            foreach (var item in Split(blocks[b], ','))
            {
                var p = item.Trim();
                if (p.Length == 0)
                {
                    continue;
                }

                if (named.Count + positional.Count >= MaxParameters)
                {
                    throw new Tl1Exception(Tl1Errors.InvalidParameter, $"more than {MaxParameters} parameters");
                }

                int eq = IndexOutsideQuotes(p, '=');
                if (eq < 0)
                {
                    positional.Add(Unquote(p));
                    continue;
                }

                var name = p[..eq].Trim().ToUpperInvariant();
                if (!IsIdentifier(name) || !named.TryAdd(name, Unquote(p[(eq + 1)..].Trim())))
                {
                    throw new Tl1Exception(Tl1Errors.InvalidParameter, $"parameter '{name}' is malformed or repeated");
                }
            }
        }

        return new Tl1Command(parts[0], parts.Length > 1 ? parts[1] : "", parts.Length > 2 ? parts[2] : "", tid, aid.ToUpperInvariant(), ctag, named, positional);
    }

    /// <summary>Reads the CTAG of a message that may not parse (so its DENY can carry it); "0" when none is readable.</summary>
    /// <param name="text">The message.</param>
    /// <returns>The CTAG.</returns>
    public static string TryReadCtag(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        List<string> blocks;
        try
        {
            blocks = text.Length > MaxMessageLength ? [] : Split(text, ':');
        }
        catch (Tl1Exception)
        {
            blocks = [.. text.Split(':')];
        }

        return blocks.Count >= 4 && IsCtag(blocks[3].Trim()) ? blocks[3].Trim() : "0";
    }

    private static bool IsCtag(string s) => s.Length is > 0 and <= MaxCtag && s.All(char.IsAsciiLetterOrDigit);

    private static bool IsIdentifier(string s) => s.Length is > 0 and <= MaxIdentifier && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && char.IsAsciiLetterOrDigit(s[0]);

    /// <summary>Splits at a separator outside double-quoted strings (a <c>\"</c> inside a string is a quote).</summary>
    private static List<string> Split(string text, char separator)
    {
        var list = new List<string>();
        int start = 0;
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted && c == '\\' && i + 1 < text.Length)
            {
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == separator && !quoted)
            {
                list.Add(text[start..i]);
                start = i + 1;
            }
        }

        if (quoted)
        {
            throw new Tl1Exception(Tl1Errors.InvalidSyntax, "unterminated quoted string");
        }

        list.Add(text[start..]);
        return list;
    }

    private static int IndexOutsideQuotes(string text, char c)
    {
        int q = text.IndexOf('"', StringComparison.Ordinal);
        int i = text.IndexOf(c, StringComparison.Ordinal);
        return q >= 0 && q < i ? -1 : i;
    }

    private static string Unquote(string value)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            return value[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
        }

        return value.Contains('"', StringComparison.Ordinal) ? throw new Tl1Exception(Tl1Errors.InvalidSyntax, "a quote inside an unquoted value") : value;
    }
}
