using System.CommandLine;
using Flash.Cli.Commands;

namespace Flash.Cli;

/// <summary>The flashctl command tree and its entry point.</summary>
public static class FlashCtl
{
    /// <summary>Builds the command tree.</summary>
    /// <returns>The root command.</returns>
    public static RootCommand Build()
    {
        var ctx = new CliContext();
        var root = new RootCommand("flashctl: Flash volumes on nanddump images and /dev/mtdN, signed software packages, and software version management on a device pair. Exit codes: docs/cli.md.");
        ctx.Options.AddTo(root);
        foreach (var command in DeviceCommands.Build(ctx).Concat(FileCommands.Build(ctx)).Concat(PackageCommands.Build(ctx)))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(SvmCommands.Build(ctx));
        return root;
    }

    /// <summary>Parses and runs a command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The exit code (see <see cref="ExitCodes"/>).</returns>
    public static int Run(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine("flashctl: error: " + error.Message);
            }

            Console.Error.WriteLine("flashctl: try 'flashctl --help'");
            return ExitCodes.Usage;
        }

        return parse.Invoke();
    }
}
