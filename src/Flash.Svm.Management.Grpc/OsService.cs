using Flash.Svm.Management.Upgrades;
using Flash.Svm.Packages;
using Gnoi.Os;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Management.Grpc;

/// <summary>
/// gNOI OS (<c>gnoi.os.OS</c>) on the upgrade state machine: <c>Install</c> streams a package into the alternate
/// context (TransferReady, TransferProgress, then Validated or InstallError), <c>Activate</c> trial-boots it and
/// commits it when the trial passes, <c>Verify</c> reports the running version and the last activation failure.
/// </summary>
/// <param name="machine">The node's upgrade state machine.</param>
/// <param name="source">The source streamed packages go through (registered in the node's <see cref="SvmOptions.Sources"/>).</param>
/// <param name="options">Limits.</param>
public sealed class OsService(UpgradeStateMachine machine, GnoiPackageSource source, GnoiOptions options) : OS.OSBase, IDisposable
{
    private readonly SemaphoreSlim _install = new(1, 1);
    private readonly ILogger _log = (options ?? throw new ArgumentNullException(nameof(options))).Logger ?? NullLogger.Instance;

    /// <inheritdoc />
    public override async Task Install(IAsyncStreamReader<InstallRequest> requestStream, IServerStreamWriter<InstallResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct).ConfigureAwait(false) || requestStream.Current.RequestCase != InstallRequest.RequestOneofCase.TransferRequest)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the first message must be a TransferRequest"));
        }

        var request = requestStream.Current.TransferRequest;
        if (request.StandbySupervisor)
        {
            await Error(responseStream, InstallError.Types.Type.UnsupportedStandbySupervisor, "this node has one supervisor").ConfigureAwait(false);
            return;
        }

        var status = machine.Status;
        if (machine.Svm.ReadTable().CurrentRelease().ToString() == request.Version || status.State == UpgradeState.Validated && status.Target.ToString() == request.Version)
        {
            await responseStream.WriteAsync(new InstallResponse { Validated = new Validated { Version = request.Version, Description = "already installed" } }, ct).ConfigureAwait(false);
            return;
        }

        if (!status.IsSettled || !await _install.WaitAsync(0, ct).ConfigureAwait(false))
        {
            await Error(responseStream, InstallError.Types.Type.InstallInProgress, $"an install is in progress ({status.State})").ConfigureAwait(false);
            return;
        }

        try
        {
            await responseStream.WriteAsync(new InstallResponse { TransferReady = new TransferReady() }, ct).ConfigureAwait(false);
            using var package = new MemoryStream();
            long reported = 0;
            bool ended = false;
            while (!ended && await requestStream.MoveNext(ct).ConfigureAwait(false))
            {
                var m = requestStream.Current;
                switch (m.RequestCase)
                {
                    case InstallRequest.RequestOneofCase.TransferContent:
                        if (package.Length + m.TransferContent.Length > options.MaxPackageBytes)
                        {
                            await Error(responseStream, InstallError.Types.Type.TooLarge, $"the package exceeds {options.MaxPackageBytes} bytes").ConfigureAwait(false);
                            return;
                        }

                        m.TransferContent.WriteTo(package);
                        if (package.Length - reported >= options.ProgressBytes)
                        {
                            reported = package.Length;
                            await responseStream.WriteAsync(new InstallResponse { TransferProgress = new TransferProgress { BytesReceived = (ulong)reported } }, ct).ConfigureAwait(false);
                        }

                        break;
                    case InstallRequest.RequestOneofCase.TransferEnd:
                        ended = true;
                        break;
                    default:
                        throw new RpcException(new Status(StatusCode.InvalidArgument, "a second TransferRequest"));
                }
            }

            if (!ended)
            {
                throw new RpcException(new Status(StatusCode.Aborted, "the stream ended without TransferEnd"));
            }

            await responseStream.WriteAsync(new InstallResponse { TransferProgress = new TransferProgress { BytesReceived = (ulong)package.Length } }, ct).ConfigureAwait(false);
            source.Add(request.Version, package.ToArray());
            try
            {
                await machine.StartDownload(new TransferParameters(source.Kind, request.Version)).WaitAsync(ct).ConfigureAwait(false);
            }
            catch (UpgradeRefusedException ex)
            {
                await Error(responseStream, InstallError.Types.Type.InstallInProgress, ex.Message).ConfigureAwait(false);
                return;
            }
            finally
            {
                source.Remove(request.Version);
            }

            var end = machine.Status;
            if (end.State != UpgradeState.Validated)
            {
                var type = end.Outcome == UpgradeOutcome.PackageRejected ? (end.Message.Contains("ignature", StringComparison.Ordinal) || end.Message.Contains("igest", StringComparison.Ordinal) || end.Message.Contains("CRC", StringComparison.Ordinal)
                    ? InstallError.Types.Type.IntegrityFail : InstallError.Types.Type.ParseFail) : InstallError.Types.Type.Unspecified;
                await Error(responseStream, type, end.Message).ConfigureAwait(false);
                return;
            }

            if (end.Target.ToString() != request.Version)
            {
                machine.Cancel();
                await Error(responseStream, InstallError.Types.Type.Incompatible, $"the package holds release {end.Target}, not {request.Version}").ConfigureAwait(false);
                return;
            }

            await responseStream.WriteAsync(new InstallResponse { Validated = new Validated { Version = request.Version, Description = end.Message } }, ct).ConfigureAwait(false);
        }
        finally
        {
            _install.Release();
        }
    }

    /// <inheritdoc />
    public override Task<ActivateResponse> Activate(ActivateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.StandbySupervisor)
        {
            return Task.FromResult(Refuse(Gnoi.Os.ActivateError.Types.Type.UnsupportedStandbySupervisor, "this node has one supervisor"));
        }

        if (machine.Svm.ReadTable().CurrentRelease().ToString() == request.Version)
        {
            return Task.FromResult(new ActivateResponse { ActivateOk = new ActivateOK() });
        }

        var status = machine.Status;
        if (status.State != UpgradeState.Validated || status.Target.ToString() != request.Version)
        {
            return Task.FromResult(Refuse(Gnoi.Os.ActivateError.Types.Type.NonExistentVersion, $"version {request.Version} is not installed"));
        }

        if (request.NoReboot)
        {
            // Stays installed (validated); it is activated by the next activation without no_reboot.
            return Task.FromResult(new ActivateResponse { ActivateOk = new ActivateOK() });
        }

        try
        {
            var report = machine.Activate(context?.CancellationToken ?? default);
            if (report.Trial != Flash.Svm.TrialOutcome.Committed)
            {
                return Task.FromResult(Refuse(Gnoi.Os.ActivateError.Types.Type.Unspecified, machine.Status.Message));
            }

            machine.Accept();
            _log.LogInformation(ManagementEvents.StateChanged, "gNOI activated {Version}", request.Version);
            return Task.FromResult(new ActivateResponse { ActivateOk = new ActivateOK() });
        }
        catch (UpgradeRefusedException ex)
        {
            return Task.FromResult(Refuse(Gnoi.Os.ActivateError.Types.Type.Unspecified, ex.Message));
        }
    }

    /// <inheritdoc />
    public override Task<VerifyResponse> Verify(VerifyRequest request, ServerCallContext context)
    {
        var status = machine.Status;
        return Task.FromResult(new VerifyResponse
        {
            Version = machine.Svm.ReadTable().CurrentRelease().ToString(),
            ActivationFailMessage = status.State == UpgradeState.RolledBack && status.Outcome == UpgradeOutcome.TrialFailed ? status.Message : "",
        });
    }

    private static ActivateResponse Refuse(Gnoi.Os.ActivateError.Types.Type type, string detail) => new() { ActivateError = new Gnoi.Os.ActivateError { Type = type, Detail = detail } };

    /// <inheritdoc />
    public void Dispose() => _install.Dispose();

    private static Task Error(IServerStreamWriter<InstallResponse> stream, InstallError.Types.Type type, string detail)
        => stream.WriteAsync(new InstallResponse { InstallError = new InstallError { Type = type, Detail = detail } });
}
