using System.Net;
using Flash.Svm.Node;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Management.Tl1;

/// <summary>Settings of a <see cref="Tl1Agent"/>.</summary>
public sealed class Tl1AgentOptions
{
    /// <summary>Where to listen (raw TL1; 3083 is the customary port).</summary>
    public IPEndPoint Endpoint { get; init; } = new(IPAddress.Loopback, 3083);

    /// <summary>The node's target/system identifier (TID/SID).</summary>
    public string Sid { get; init; } = "FLASH";

    /// <summary>The module bus (for INIT-SYS of one module and RTRV-EQPT).</summary>
    public IModuleBus? Bus { get; init; }

    /// <summary>Sessions served at once; further connections are told so and closed.</summary>
    public int MaxSessions { get; init; } = 64;

    /// <summary>Failed log-ins in a row that lock a user out.</summary>
    public int MaxLoginFailures { get; init; } = 3;

    /// <summary>How long a locked-out user stays locked.</summary>
    public TimeSpan Lockout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Where failed log-in counts and lockouts are kept (null: <see cref="NvsTl1LoginStore"/> on the node's SVM, so they survive a restart).</summary>
    public ITl1LoginStore? LoginStore { get; init; }

    /// <summary>How long a module may take to report healthy after INIT-SYS on it.</summary>
    public TimeSpan ModuleHealthTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Autonomous messages queued per session before the oldest are dropped (a client that does not read).</summary>
    public int OutputQueue { get; init; } = 512;

    /// <summary>Logger.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Clock (headers, lockout).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
