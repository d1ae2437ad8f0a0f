namespace Flash.Drivers;

/// <summary>Base of every error a flash device reports.</summary>
public class FlashException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    public FlashException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="inner">The cause.</param>
    public FlashException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The device lost power: the operation in progress was interrupted and nothing more runs until power-up.</summary>
public sealed class PowerLossException : FlashException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was interrupted.</param>
    public PowerLossException(string message) : base(message) { }
}

/// <summary>An operation addressed a block that is marked bad.</summary>
public sealed class BadBlockException : FlashException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="block">The bad block.</param>
    public BadBlockException(int block) : base($"Block {block} is marked bad.") => Block = block;

    /// <summary>The bad block.</summary>
    public int Block { get; }
}

/// <summary>A program broke the chip's rules: a page programmed more often than allowed, or out of ascending order.</summary>
public sealed class ProgramRuleException : FlashException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="page">The page.</param>
    /// <param name="message">Which rule was broken.</param>
    public ProgramRuleException(int page, string message) : base(message) => Page = page;

    /// <summary>The page whose program was refused.</summary>
    public int Page { get; }
}

/// <summary>The chip reported that a page program failed (a grown bad block). The page's content is undefined.</summary>
public sealed class ProgramFailedException : FlashException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="page">The page.</param>
    public ProgramFailedException(int page) : base($"Program of page {page} failed.") => Page = page;

    /// <summary>Creates the exception with the device's own message.</summary>
    /// <param name="page">The page.</param>
    /// <param name="message">The device's message.</param>
    /// <param name="inner">The cause.</param>
    public ProgramFailedException(int page, string message, Exception inner) : base(message, inner) => Page = page;

    /// <summary>The page whose program failed.</summary>
    public int Page { get; }
}

/// <summary>The chip reported that a block erase failed (a grown bad block or a worn-out block).</summary>
public sealed class EraseFailedException : FlashException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="block">The block.</param>
    public EraseFailedException(int block) : base($"Erase of block {block} failed.") => Block = block;

    /// <summary>Creates the exception with the device's own message.</summary>
    /// <param name="block">The block.</param>
    /// <param name="message">The device's message.</param>
    /// <param name="inner">The cause.</param>
    public EraseFailedException(int block, string message, Exception inner) : base(message, inner) => Block = block;

    /// <summary>The block whose erase failed.</summary>
    public int Block { get; }
}

/// <summary>Two operations overlapped on one device, which callers must never allow.</summary>
public sealed class ConcurrentDeviceAccessException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What overlapped.</param>
    public ConcurrentDeviceAccessException(string message) : base(message) { }
}
