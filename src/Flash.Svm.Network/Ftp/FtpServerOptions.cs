using System.Net;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Network.Ftp;

/// <summary>An FTP login.</summary>
/// <param name="User">User name.</param>
/// <param name="Password">Password.</param>
/// <param name="Module">The module whose components the account sees, or null for an operator account (every component).</param>
public sealed record FtpAccount(string User, string Password, ModuleAddress? Module = null);

/// <summary>Settings of an <see cref="FtpServer"/>.</summary>
public sealed class FtpServerOptions
{
    /// <summary>Control connection address and port (21 by default; 0 picks a free port).</summary>
    public IPEndPoint Endpoint { get; init; } = new(IPAddress.Loopback, 21);

    /// <summary>Accounts.</summary>
    public IReadOnlyList<FtpAccount> Accounts { get; init; } = [];

    /// <summary>
    /// Allow <c>anonymous</c>/<c>ftp</c> logins (any password): they see the components of the module at the client's
    /// address when it is a slot of <see cref="Plan"/>, else nothing is served to them.
    /// </summary>
    public bool AllowAnonymous { get; init; }

    /// <summary>Slot plan used for anonymous logins from module addresses.</summary>
    public ModulePlan? Plan { get; init; }

    /// <summary>Sessions served at once; more connections get 421.</summary>
    public int MaxSessions { get; init; } = 32;

    /// <summary>How long a passive listener waits for the client's data connection.</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a session may be idle before it is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Delay before answering a failed login (slows password guessing).</summary>
    public TimeSpan LoginFailureDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Logger.</summary>
    public ILogger? Logger { get; init; }
}
