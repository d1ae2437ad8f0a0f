using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Components;

/// <summary>Why a requested file is not served.</summary>
public enum ServeRefusal
{
    /// <summary>Served.</summary>
    None,
    /// <summary>The name is not a plain component name (path traversal, directories, control characters).</summary>
    BadName,
    /// <summary>The requester is not a known module.</summary>
    UnknownRequester,
    /// <summary>No such component in the served context.</summary>
    NotFound,
    /// <summary>The component exists but the SGC file does not map it to the requesting module.</summary>
    NotMapped,
}

/// <summary>The pure rule for what a requester may fetch: its own mapped components by plain name (an optional leading
/// <c>/</c> or <c>components/</c> prefix is accepted, as boot ROMs send either); operators see every component.</summary>
public static class ServedFiles
{
    /// <summary>Resolves a requested file name.</summary>
    /// <param name="sgc">The SGC file of the served context.</param>
    /// <param name="requester">The requesting module, or null for an operator (full read-only view).</param>
    /// <param name="isOperator">True when the requester is an operator account rather than a module.</param>
    /// <param name="requested">The file name as sent.</param>
    /// <param name="component">The component when served.</param>
    /// <returns><see cref="ServeRefusal.None"/> or why not.</returns>
    public static ServeRefusal Resolve(SgcFile sgc, ModuleAddress? requester, bool isOperator, string requested, out SgcComponent? component)
    {
        ArgumentNullException.ThrowIfNull(sgc);
        component = null;
        string? name = PlainName(requested);
        if (name is null)
        {
            return ServeRefusal.BadName;
        }

        if (requester is null && !isOperator)
        {
            return ServeRefusal.UnknownRequester;
        }

        var c = sgc.Find(name);
        if (c is null)
        {
            return ServeRefusal.NotFound;
        }

        if (!isOperator && !sgc.ComponentsFor(requester!.Value).Any(x => x.Name == name))
        {
            return ServeRefusal.NotMapped;
        }

        component = c;
        return ServeRefusal.None;
    }

    /// <summary>The component name in a requested path, or null when it is not a plain, valid component name.</summary>
    /// <param name="requested">As sent.</param>
    /// <returns>The name or null.</returns>
    public static string? PlainName(string requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        string n = requested;
        if (n.StartsWith('/'))
        {
            n = n[1..];
        }

        if (n.StartsWith(ContextLayoutNames.Components, StringComparison.Ordinal))
        {
            n = n[ContextLayoutNames.Components.Length..];
        }

        return n.Length > 0 && n.IndexOfAny(['/', '\\']) < 0 && n != "." && n != ".." && SgcFile.IsValidName(n) ? n : null;
    }

    private static class ContextLayoutNames
    {
        public const string Components = "components/";
    }
}
