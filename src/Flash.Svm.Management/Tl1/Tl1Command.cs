namespace Flash.Svm.Management.Tl1;

/// <summary>
/// One parsed TL1 input message (GR-831): <c>VERB[-MOD1[-MOD2]]:[TID]:[AID]:CTAG[:[GB][:params]];</c>.
/// Verb, modifiers, TID, AID and parameter names are upper-cased (TL1 is case-insensitive outside quoted strings).
/// </summary>
/// <param name="Verb">The verb, e.g. <c>COPY</c>.</param>
/// <param name="Modifier1">First modifier, e.g. <c>RFILE</c>, or empty.</param>
/// <param name="Modifier2">Second modifier, or empty.</param>
/// <param name="Tid">Target identifier, or empty.</param>
/// <param name="Aid">Access identifier, or empty.</param>
/// <param name="Ctag">Correlation tag.</param>
/// <param name="Parameters">Named parameters of the message payload (names upper-cased, values unquoted).</param>
/// <param name="Positional">Positional (unnamed) parameters of the payload, in order.</param>
public sealed record Tl1Command(string Verb, string Modifier1, string Modifier2, string Tid, string Aid, string Ctag,
    IReadOnlyDictionary<string, string> Parameters, IReadOnlyList<string> Positional)
{
    /// <summary>The command code: verb and modifiers joined by <c>-</c>, e.g. <c>COPY-RFILE</c>.</summary>
    public string Code => Modifier2.Length > 0 ? $"{Verb}-{Modifier1}-{Modifier2}" : Modifier1.Length > 0 ? $"{Verb}-{Modifier1}" : Verb;

    /// <summary>A named parameter, or null.</summary>
    /// <param name="name">Upper-case name.</param>
    /// <returns>The value or null.</returns>
    public string? Get(string name) => Parameters.TryGetValue(name, out var v) ? v : null;
}

/// <summary>A TL1 input the agent refuses before executing it, with its GR-833 error code.</summary>
public sealed class Tl1Exception : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The four-letter error code (docs/management.md).</param>
    /// <param name="message">Explanation sent in the response's comment.</param>
    public Tl1Exception(string code, string message) : base(message) => Code = code;

    /// <summary>The four-letter error code.</summary>
    public string Code { get; }
}

/// <summary>The error codes the agent sends in DENY responses (GR-833 families; <c>PIUL</c> and <c>SAIP</c> are this agent's).</summary>
public static class Tl1Errors
{
    /// <summary>Input, invalid syntax or punctuation (also: oversize input).</summary>
    public const string InvalidSyntax = "IISP";
    /// <summary>Input, invalid correlation tag.</summary>
    public const string InvalidCtag = "IICT";
    /// <summary>Input, command not valid (unknown verb).</summary>
    public const string UnknownCommand = "ICNV";
    /// <summary>Input, invalid target identifier.</summary>
    public const string InvalidTid = "IITA";
    /// <summary>Input, invalid access identifier.</summary>
    public const string InvalidAid = "IIAC";
    /// <summary>Input, parameter not valid (unknown or missing parameter).</summary>
    public const string InvalidParameter = "IPNV";
    /// <summary>Input, data not valid (bad value).</summary>
    public const string InvalidData = "IDNV";
    /// <summary>Privilege, login not active.</summary>
    public const string NotLoggedIn = "PLNA";
    /// <summary>Privilege, illegal command code (the user's privilege is too low).</summary>
    public const string Privilege = "PICC";
    /// <summary>Privilege, illegal user identity (unknown user or wrong password; never says which).</summary>
    public const string BadLogin = "PIUI";
    /// <summary>Privilege, user locked out after repeated failures.</summary>
    public const string LockedOut = "PIUL";
    /// <summary>Status, requested operation failed.</summary>
    public const string Failed = "SROF";
    /// <summary>Status, invalid request in the current state.</summary>
    public const string InvalidState = "SRQN";
    /// <summary>Status, an install is already in progress.</summary>
    public const string InstallInProgress = "SAIP";
}
