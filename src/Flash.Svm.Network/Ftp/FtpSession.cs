using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flash.Svm.Network.Components;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Network.Ftp;

/// <summary>One FTP control connection: login, passive data connections, listings and read-only retrieval.</summary>
internal sealed partial class FtpSession : IDisposable
{
    private const int MaxLine = 512;
    private readonly FtpServer _server;
    private readonly TcpClient _client;
    private readonly bool _refuse;
    private readonly IPEndPoint _remote;
    private NetworkStream _stream = null!;
    private string? _user;
    private FtpAccount? _account;
    private bool _loggedIn;
    private ModuleAddress? _module;
    private bool _operator;
    private long _restart;
    private TcpListener? _passive;
    private bool _epsvAll;

    public FtpSession(FtpServer server, TcpClient client, bool refuse)
    {
        _server = server;
        _client = client;
        _refuse = refuse;
        _remote = (IPEndPoint)client.Client.RemoteEndPoint!;
    }

    public async Task RunAsync(CancellationToken stop)
    {
        using var _ = _client;
        try
        {
            _stream = _client.GetStream();
            if (_refuse)
            {
                await ReplyAsync(421, "Too many sessions, try later.", stop).ConfigureAwait(false);
                return;
            }

            _server.Log.LogInformation(NetworkEvents.FtpSession, "FTP: session from {Client}", _remote);
            await ReplyAsync(220, "Flash SMP FTP server (read-only).", stop).ConfigureAwait(false);
            var buffer = new byte[MaxLine + 2];
            int filled = 0;
            while (!stop.IsCancellationRequested)
            {
                int eol = Array.IndexOf(buffer, (byte)'\n', 0, filled);
                if (eol < 0)
                {
                    if (filled >= buffer.Length)
                    {
                        await ReplyAsync(500, "Line too long.", stop).ConfigureAwait(false);
                        filled = 0;
                        continue;
                    }

                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    idle.CancelAfter(_server.Options.IdleTimeout);
                    int n;
                    try
                    {
                        n = await _stream.ReadAsync(buffer.AsMemory(filled), idle.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                    {
                        await ReplyAsync(421, "Idle timeout.", stop).ConfigureAwait(false);
                        return;
                    }

                    if (n == 0)
                    {
                        return;
                    }

                    filled += n;
                    continue;
                }

                string line = Decode(buffer.AsSpan(0, eol));
                Array.Copy(buffer, eol + 1, buffer, 0, filled - eol - 1);
                filled -= eol + 1;
                if (!await CommandAsync(line, stop).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or the server is stopping.
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        _passive?.Dispose();
        _passive = null;
    }

    private static string Decode(ReadOnlySpan<byte> line)
    {
        if (!line.IsEmpty && line[^1] == '\r')
        {
            line = line[..^1];
        }

        var chars = new char[line.Length];
        for (int i = 0; i < line.Length; i++)
        {
            chars[i] = line[i] is >= 0x20 and < 0x7f ? (char)line[i] : '?';
        }

        return new string(chars);
    }

    private async Task<bool> CommandAsync(string line, CancellationToken stop)
    {
        int sp = line.IndexOf(' ', StringComparison.Ordinal);
        string verb = (sp < 0 ? line : line[..sp]).ToUpperInvariant();
        string arg = sp < 0 ? "" : line[(sp + 1)..];
        switch (verb)
        {
            case "USER":
                _user = arg;
                _loggedIn = false;
                await ReplyAsync(331, "Password required.", stop).ConfigureAwait(false);
                return true;
            case "PASS":
                await LoginAsync(arg, stop).ConfigureAwait(false);
                return true;
            case "QUIT":
                await ReplyAsync(221, "Goodbye.", stop).ConfigureAwait(false);
                return false;
            case "NOOP":
                await ReplyAsync(200, "OK.", stop).ConfigureAwait(false);
                return true;
            case "SYST":
                await ReplyAsync(215, "UNIX Type: L8", stop).ConfigureAwait(false);
                return true;
            case "FEAT":
                await ReplyRawAsync("211-Features:\r\n EPSV\r\n SIZE\r\n MDTM\r\n REST STREAM\r\n UTF8\r\n211 End\r\n", stop).ConfigureAwait(false);
                return true;
            case "OPTS":
                await ReplyAsync(arg.Equals("UTF8 ON", StringComparison.OrdinalIgnoreCase) ? 200 : 501, arg.Equals("UTF8 ON", StringComparison.OrdinalIgnoreCase) ? "UTF8 on." : "Option not supported.", stop).ConfigureAwait(false);
                return true;
            default:
                break;
        }

        if (!_loggedIn)
        {
            await ReplyAsync(530, "Please log in with USER and PASS.", stop).ConfigureAwait(false);
            return true;
        }

        switch (verb)
        {
            case "PWD":
            case "XPWD":
                await ReplyAsync(257, "\"/\" is the current directory.", stop).ConfigureAwait(false);
                break;
            case "CWD":
            case "XCWD":
                bool root = arg is "/" or "" or "." or "/components" or "components" or "/components/";
                await ReplyAsync(root ? 250 : 550, root ? "Directory is /." : "No such directory.", stop).ConfigureAwait(false);
                break;
            case "CDUP":
            case "XCUP":
                await ReplyAsync(250, "Directory is /.", stop).ConfigureAwait(false);
                break;
            case "TYPE":
                string t = arg.ToUpperInvariant();
                bool ok = t is "I" or "A" or "L 8" or "A N";
                await ReplyAsync(ok ? 200 : 504, ok ? $"Type set to {t} (files are always sent as binary images)." : "Type not supported.", stop).ConfigureAwait(false);
                break;
            case "MODE":
                await ReplyAsync(arg.Equals("S", StringComparison.OrdinalIgnoreCase) ? 200 : 504, "Stream mode only.", stop).ConfigureAwait(false);
                break;
            case "STRU":
                await ReplyAsync(arg.Equals("F", StringComparison.OrdinalIgnoreCase) ? 200 : 504, "File structure only.", stop).ConfigureAwait(false);
                break;
            case "PASV":
                await PassiveAsync(extended: false, arg, stop).ConfigureAwait(false);
                break;
            case "EPSV":
                await PassiveAsync(extended: true, arg, stop).ConfigureAwait(false);
                break;
            case "PORT":
            case "EPRT":
                await ReplyAsync(_epsvAll ? 503 : 502, "Active mode is not supported; use PASV or EPSV.", stop).ConfigureAwait(false);
                break;
            case "REST":
                if (long.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out long at))
                {
                    _restart = at;
                    await ReplyAsync(350, $"Restarting at {at}.", stop).ConfigureAwait(false);
                }
                else
                {
                    await ReplyAsync(501, "REST needs a byte offset.", stop).ConfigureAwait(false);
                }

                break;
            case "SIZE":
            case "MDTM":
                await FileInfoAsync(verb, arg, stop).ConfigureAwait(false);
                break;
            case "LIST":
            case "NLST":
                await ListAsync(verb == "NLST", stop).ConfigureAwait(false);
                break;
            case "RETR":
                await RetrieveAsync(arg, stop).ConfigureAwait(false);
                break;
            case "ABOR":
                await ReplyAsync(226, "Nothing to abort.", stop).ConfigureAwait(false);
                break;
            case "STAT":
                await ReplyAsync(211, $"Logged in as {_user}; read-only.", stop).ConfigureAwait(false);
                break;
            case "HELP":
                await ReplyAsync(214, "USER PASS QUIT NOOP SYST FEAT PWD CWD CDUP TYPE MODE STRU PASV EPSV REST SIZE MDTM LIST NLST RETR ABOR STAT HELP", stop).ConfigureAwait(false);
                break;
            case "STOR":
            case "STOU":
            case "APPE":
            case "DELE":
            case "MKD":
            case "XMKD":
            case "RMD":
            case "XRMD":
            case "RNFR":
            case "RNTO":
            case "SITE":
                await ReplyAsync(550, "Permission denied: the server is read-only.", stop).ConfigureAwait(false);
                break;
            default:
                await ReplyAsync(502, "Command not implemented.", stop).ConfigureAwait(false);
                break;
        }

        return true;
    }

    private async Task LoginAsync(string password, CancellationToken stop)
    {
        if (_user is null)
        {
            await ReplyAsync(503, "Send USER first.", stop).ConfigureAwait(false);
            return;
        }

        var options = _server.Options;
        var account = options.Accounts.FirstOrDefault(a => a.User == _user && a.Password == password);
        if (account is not null)
        {
            _account = account;
            _module = account.Module;
            _operator = account.Module is null;
        }
        else if (options.AllowAnonymous && _user is "anonymous" or "ftp")
        {
            _account = null;
            _module = options.Plan?.ByAddress(_remote.Address)?.Module;
            _operator = false;
        }
        else
        {
            _server.Log.LogWarning(NetworkEvents.FtpSession, "FTP: failed login as {User} from {Client}", _user, _remote);
            await Task.Delay(options.LoginFailureDelay, stop).ConfigureAwait(false);
            await ReplyAsync(530, "Login incorrect.", stop).ConfigureAwait(false);
            return;
        }

        _loggedIn = true;
        await ReplyAsync(230, _operator ? "Logged in (operator view)." : _module is null ? "Logged in (nothing is served to this address)." : $"Logged in as module {_module}.", stop).ConfigureAwait(false);
    }

    private Task ReplyAsync(int code, string text, CancellationToken stop) => ReplyRawAsync($"{code} {text}\r\n", stop);

    private async Task ReplyRawAsync(string text, CancellationToken stop)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        await _stream.WriteAsync(bytes, stop).ConfigureAwait(false);
    }

    private async Task<(SgcFile Sgc, IReadOnlyList<SgcComponent> Visible)> ViewAsync(CancellationToken stop)
    {
        var sgc = await _server.Store.SgcAsync(stop).ConfigureAwait(false);
        IReadOnlyList<SgcComponent> visible = _operator ? sgc.Components : _module is { } m ? sgc.ComponentsFor(m) : [];
        return (sgc, visible);
    }

    private async Task<SgcComponent?> ResolveAsync(string name, CancellationToken stop)
    {
        var (sgc, _) = await ViewAsync(stop).ConfigureAwait(false);
        var refusal = ServedFiles.Resolve(sgc, _module, _operator, name, out var c);
        if (refusal == ServeRefusal.None)
        {
            return c;
        }

        await ReplyAsync(550, refusal switch
        {
            ServeRefusal.BadName => "Not a component name.",
            ServeRefusal.NotMapped => "Component not mapped to this module.",
            ServeRefusal.UnknownRequester => "Nothing is served to this login.",
            _ => "No such file.",
        }, stop).ConfigureAwait(false);
        return null;
    }
}
