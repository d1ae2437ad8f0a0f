using System.Diagnostics;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    private static string Digest(IReadOnlyList<SgcComponent> components)
        => string.Join(";", components.Select(c => $"{c.Name}:{c.Crc32C:x8}:{c.Size}"));

    /// <summary>
    /// The system-wide init command: every module whose loaded component set differs from what the SGC file maps to it
    /// (or which is not healthy) is initialised. A module fault is a module failure, never an SVM failure: an exception of
    /// any kind (also <see cref="OperationCanceledException"/> unless the caller's own token was cancelled), an init that
    /// does not return within <see cref="SvmOptions.HealthTimeout"/> (it is cancelled and abandoned), or no healthy report
    /// within the timeout.
    /// </summary>
    private void InitModules(SgcFile sgc, BootReport report, CancellationToken cancellationToken)
    {
        var targets = _bus.Modules.Where(m =>
            !_loaded.TryGetValue(m.Address, out var d) || d != Digest(sgc.ComponentsFor(m.Address)) || m.ReportHealth() != ModuleHealth.Healthy).ToList();
        Raise(SvmEvents.SystemInit, LogLevel.Information,
            $"System-wide init command for release {sgc.Release}: {(targets.Count == _bus.Modules.Count ? "all modules" : targets.Count == 0 ? "no module needs it" : string.Join(", ", targets.Select(m => m.Address)))}");
        var started = new List<IProcessorModule>();
        foreach (var m in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _loaded.Remove(m.Address);
            var components = sgc.ComponentsFor(m.Address);
            var configData = TryRead(SvmLayout.Configuration(ConfigurationFile.ModuleName(m.Address)));
            var ctx = new InitContext(this, sgc.Release, components, configData is null ? null : ConfigurationFile.Parse(configData));
            report.InitialisedModules.Add(m.Address);
            if (RunModuleInit(m, ctx, cancellationToken) is { } failure)
            {
                report.FailedModules.Add(m.Address);
                Raise(SvmEvents.ModuleFailed, LogLevel.Error, $"Module {m.Address} {failure}", m.Address);
            }
            else
            {
                started.Add(m);
            }
        }

        // Health: every started module must report healthy within the timeout.
        var sw = Stopwatch.StartNew();
        var pending = started.ToList();
        while (pending.Count > 0)
        {
            pending.RemoveAll(m => m.ReportHealth() == ModuleHealth.Healthy);
            if (pending.Count == 0 || sw.Elapsed >= _options.HealthTimeout)
            {
                break;
            }

            Thread.Sleep(1);
        }

        foreach (var m in started)
        {
            if (pending.Contains(m))
            {
                report.FailedModules.Add(m.Address);
                Raise(SvmEvents.ModuleFailed, LogLevel.Error, $"Module {m.Address} did not report healthy within {_options.HealthTimeout.TotalMilliseconds:0} ms", m.Address);
            }
            else
            {
                _loaded[m.Address] = Digest(sgc.ComponentsFor(m.Address));
                Raise(SvmEvents.ModuleInitialised, LogLevel.Information, $"Module {m.Address} initialised with release {sgc.Release} ({m.ProgrammableDevices().Count} programmable device(s))", m.Address);
            }
        }
    }

    /// <summary>Runs one module's init bounded by the health timeout; returns why it failed, or null when it returned.</summary>
    private string? RunModuleInit(IProcessorModule module, InitContext ctx, CancellationToken cancellationToken)
    {
        using var moduleToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A dedicated thread (not the pool, which a busy node may have starved) so the timeout measures the module alone.
        var task = Task.Factory.StartNew(() => module.Initialize(ctx, moduleToken.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (task.Wait(_options.HealthTimeout, cancellationToken))
            {
                return null;
            }

            // Hung: cancel it, cut it off from storage and leave it behind.
            moduleToken.Cancel();
            ctx.Revoke();
            return $"did not finish its init within {_options.HealthTimeout.TotalMilliseconds:0} ms; abandoned";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            ctx.Revoke();
            throw;
        }
        catch (AggregateException ae) when (ae.InnerException is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("Init was cancelled.", ae.InnerException, cancellationToken);
        }
        catch (AggregateException ae)
        {
            var ex = ae.InnerException ?? ae;
            return ex is OperationCanceledException ? $"cancelled its own init: {ex.Message}" : $"crashed during init: {ex.Message}";
        }
    }

    private sealed class InitContext(SoftwareVersionManager svm, SoftwareVersion release, IReadOnlyList<SgcComponent> components, ConfigurationFile? configuration) : IModuleInitContext
    {
        private volatile bool _revoked;

        public IReadOnlyList<SgcComponent> Components => components;

        public ConfigurationFile? Configuration => configuration;

        public SoftwareVersion Release => release;

        /// <summary>The module's init was abandoned: it gets nothing more from storage.</summary>
        public void Revoke() => _revoked = true;

        public ReadOnlyMemory<byte> RequestComponent(string name)
        {
            if (_revoked)
            {
                throw new SvmException("The init of this module was abandoned.");
            }

            var c = components.FirstOrDefault(x => x.Name == name) ?? throw new SvmException($"Component {name} is not mapped to this module.");
            var data = svm.TryReadCurrent(SvmLayout.Component(name));
            return data is not null && c.Matches(data) ? data : throw new SvmException($"Component {name} does not verify in the current context of {svm.NameOf(svm.Primary)}.");
        }
    }
}
