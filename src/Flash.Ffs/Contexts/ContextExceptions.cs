namespace Flash.Ffs.Contexts;

/// <summary>Base of the errors of the context layer.</summary>
public class ContextException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public ContextException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="inner">The cause.</param>
    public ContextException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>No valid context table was found (both copies missing, truncated, of an unknown version or failing their CRC). Nothing was changed.</summary>
public sealed class ContextTableCorruptException : ContextException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public ContextTableCorruptException(string message) : base(message) { }
}

/// <summary>The device carries a file system but no context layout (it was never formatted as a context store).</summary>
public sealed class ContextStoreNotFormattedException : ContextException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is missing.</param>
    public ContextStoreNotFormattedException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What is missing.</param>
    /// <param name="inner">The cause.</param>
    public ContextStoreNotFormattedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A write, delete or clear addressed the current context, which is read-only. Nothing was changed.</summary>
public sealed class CurrentContextWriteException : ContextException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="area">The current area.</param>
    public CurrentContextWriteException(ContextArea area) : base($"{area} is the current context and cannot be written.") => Area = area;

    /// <summary>The area that was addressed.</summary>
    public ContextArea Area { get; }
}

/// <summary>An operation is not allowed in the area's current state (for example switching to an alternate that is not complete). Nothing was changed.</summary>
public sealed class ContextStateException : ContextException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="area">The area whose state forbids the operation.</param>
    /// <param name="state">Its state.</param>
    /// <param name="message">What was attempted.</param>
    public ContextStateException(ContextArea area, ContextState state, string message) : base(message)
    {
        Area = area;
        State = state;
    }

    /// <summary>The area concerned.</summary>
    public ContextArea Area { get; }

    /// <summary>Its state.</summary>
    public ContextState State { get; }
}
