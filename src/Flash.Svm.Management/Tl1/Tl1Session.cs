namespace Flash.Svm.Management.Tl1;

/// <summary>What the command set knows of the session a command came in on.</summary>
public interface ITl1Session
{
    /// <summary>The logged-in user, or null.</summary>
    string? User { get; }

    /// <summary>The logged-in user's privilege.</summary>
    Tl1Privilege Privilege { get; }

    /// <summary>Opens the session for a user.</summary>
    /// <param name="user">The user.</param>
    /// <param name="privilege">The privilege.</param>
    void LogIn(string user, Tl1Privilege privilege);

    /// <summary>Closes the session's log-in (the connection stays).</summary>
    void LogOut();

    /// <summary>Sends an output message (an <c>IP</c> acknowledgment before a long command's response).</summary>
    /// <param name="message">The message.</param>
    void Send(string message);
}
