namespace Flash.Svm.Transfer;

/// <summary>A transfer failed. Messages name the server by its redacted URL only, never credentials.</summary>
public class TransferException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Details (already redacted).</param>
    /// <param name="inner">The cause, if any.</param>
    public TransferException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>Whether trying again (from the last durable offset) may succeed.</summary>
    public virtual bool IsTransient => false;
}

/// <summary>The transfer parameters are not a usable URL.</summary>
/// <param name="message">What is wrong.</param>
public sealed class TransferUrlException(string message) : TransferException("Bad transfer URL: " + message);

/// <summary>The server's identity was not proven: untrusted or mismatched TLS certificate, unknown SSH host key.</summary>
/// <param name="message">Details.</param>
/// <param name="inner">The cause.</param>
public sealed class TransferTrustException(string message, Exception? inner = null) : TransferException(message, inner);

/// <summary>The server refused the credentials.</summary>
/// <param name="message">Details.</param>
public sealed class TransferAuthenticationException(string message) : TransferException(message);

/// <summary>The server has no such file.</summary>
/// <param name="message">Details.</param>
public sealed class TransferNotFoundException(string message) : TransferException(message);

/// <summary>The server answered outside the protocol, or refused an operation the transfer needs.</summary>
/// <param name="message">Details.</param>
public sealed class TransferProtocolException(string message) : TransferException(message);

/// <summary>The connection broke, stalled or timed out; bytes received so far are kept and the next attempt resumes.</summary>
/// <param name="message">Details.</param>
/// <param name="inner">The cause.</param>
public sealed class TransferInterruptedException(string message, Exception? inner = null) : TransferException(message, inner)
{
    /// <inheritdoc />
    public override bool IsTransient => true;
}
