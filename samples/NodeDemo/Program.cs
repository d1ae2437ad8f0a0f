// Flash node demo: everything runs on the RAM flash simulator, no hardware needed.
// Step 1 (this version): raw device operations, a power cut in the middle of a page program, and the counters.
using System.Text;
using Flash.Drivers;
using Flash.Drivers.Simulation;

var options = new FlashSimulatorOptions { Seed = 42 };
using var flash = FlashSimulator.Create(options);
var g = flash.Geometry;

Section("Device");
Console.WriteLine($"  Geometry      : {g}");
Console.WriteLine($"  Capacity      : {g.TotalBytes / (1024 * 1024)} MiB in {g.BlockCount} blocks of {g.BlockSize / 1024} KiB");
Console.WriteLine($"  Page          : {g.PageSize} B data + {g.SpareSize} B spare, {g.PartialPrograms} program(s) per page between erases");
Console.WriteLine($"  ECC           : {options.EccStrength} bits per {options.EccSectorSize} B sector");

Section("Writing pages");
var page = new byte[g.PageSize];
var spare = new byte[g.SpareSize];
const int block = 1;
flash.Erase(block);
for (int i = 0; i < 3; i++)
{
    int p = g.FirstPageOf(block) + i;
    Fill(page, $"config record {i}: hostname=node-{i:D2} vlan={100 + i} ");
    Array.Fill(spare, (byte)0xFF);
    spare[g.SpareFreeOffset] = (byte)i; // a sequence number in the file system's free spare bytes
    flash.Program(p, page, spare);
    Console.WriteLine($"  programmed page {p} ({g.PageSize + g.SpareSize} B)");
}

var readBack = new byte[g.PageSize];
var result = flash.Read(g.FirstPageOf(block), readBack, default);
Console.WriteLine($"  read back page {g.FirstPageOf(block)}: ECC {result.Status}, text \"{Text(readBack, 40)}\"");

Section("Power cut in the middle of a program");
int victim = g.FirstPageOf(block) + 3;
Array.Clear(page); // every data bit should go from 1 to 0
flash.CutPowerAfter(1);
Console.WriteLine($"  scheduled a power cut at the next mutation; programming page {victim} with all zeros...");
try
{
    flash.Program(victim, page, default);
    Console.WriteLine("  (the program completed: unexpected)");
    return 1;
}
catch (PowerLossException ex)
{
    Console.WriteLine($"  PowerLossException: {ex.Message}");
}

Console.WriteLine($"  device powered: {flash.IsPowered}");
try
{
    flash.Read(victim, readBack, default);
}
catch (PowerLossException ex)
{
    Console.WriteLine($"  a read while off fails too: {ex.Message}");
}

flash.PowerUp();
Console.WriteLine($"  power restored; device powered: {flash.IsPowered}");
var status = flash.Read(victim, readBack, default);
int cleared = 0;
foreach (byte b in readBack)
{
    cleared += 8 - System.Numerics.BitOperations.PopCount(b);
}

Console.WriteLine($"  page {victim} after power-up (ECC {status.Status}): {cleared} of {g.PageSize * 8} bits cleared, first 64 bytes:");
HexDump(readBack.AsSpan(0, 64));
Console.WriteLine($"  the page was programmed {flash.ProgramCountOf(victim)} time(s); it must not be programmed again before an erase.");

Section("Counters");
var s = flash.Statistics;
Console.WriteLine($"  page reads     : {s.PageReads,8}   data bytes read       : {s.DataBytesRead,10:N0}");
Console.WriteLine($"  page programs  : {s.PagePrograms,8}   data bytes programmed : {s.DataBytesProgrammed,10:N0}");
Console.WriteLine($"  block erases   : {s.BlockErases,8}   spare bytes programmed: {s.SpareBytesProgrammed,10:N0}");
Console.WriteLine($"  mutations      : {flash.MutationCount,8}");
Console.WriteLine($"  simulated time : {s.SimulatedNanoseconds / 1000.0:N1} us (tR {s.Timing.ReadNs / 1000} us, tPROG {s.Timing.ProgramNs / 1000} us, tBERS {s.Timing.EraseNs / 1000} us, {s.Timing.TransferNsPerByte} ns/B bus)");
Console.WriteLine();
Console.WriteLine("Demo finished.");
return 0;

static void Section(string title)
{
    Console.WriteLine();
    Console.WriteLine($"== {title} ==");
}

static void Fill(byte[] buffer, string text)
{
    var bytes = Encoding.ASCII.GetBytes(text);
    for (int i = 0; i < buffer.Length; i++)
    {
        buffer[i] = bytes[i % bytes.Length];
    }
}

static string Text(byte[] buffer, int length)
    => Encoding.ASCII.GetString(buffer, 0, length);

static void HexDump(ReadOnlySpan<byte> bytes)
{
    for (int offset = 0; offset < bytes.Length; offset += 16)
    {
        var line = bytes.Slice(offset, Math.Min(16, bytes.Length - offset));
        Console.WriteLine($"    {offset:X4}  {string.Join(' ', line.ToArray().Select(b => b.ToString("x2")))}");
    }
}
