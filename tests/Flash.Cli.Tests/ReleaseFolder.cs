using System.Security.Cryptography;

namespace Flash.Cli.Tests;

/// <summary>Release folders for package tests.</summary>
public static class ReleaseFolder
{
    /// <summary>Writes a release folder with an SGC description: an application and an FPGA bitstream.</summary>
    public static void Write(FlashCtlRunner ctl, string folder, string release, byte[]? app = null, byte[]? fpga = null)
    {
        Directory.CreateDirectory(ctl.PathOf(folder));
        File.WriteAllBytes(ctl.PathOf($"{folder}/app.bin"), app ?? RandomNumberGenerator.GetBytes(5000));
        File.WriteAllBytes(ctl.PathOf($"{folder}/fpga.bit"), fpga ?? RandomNumberGenerator.GetBytes(3000));
        File.WriteAllText(ctl.PathOf($"{folder}/sgc.json"), $$"""
            { "release": "{{release}}",
              "components": [ { "name": "app.bin" }, { "name": "fpga.bit", "version": "1.0.0", "device": { "kind": "fpga", "name": "FPGA0" } } ],
              "mappings": [ { "module": "traffic", "slot": "any", "component": "app.bin" }, { "module": "traffic", "slot": 1, "component": "fpga.bit" } ] }
            """);
    }

}
