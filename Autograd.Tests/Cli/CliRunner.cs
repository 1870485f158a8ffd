using System.Diagnostics;
using System.Text;

namespace Autograd.Tests.Cli;

/// <summary>What a CLI process did.</summary>
internal sealed record CliResult(int ExitCode, string StdOut, string StdErr)
{
    public string[] ErrorLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}

/// <summary>
/// Runs the real <c>autograd</c> command as a separate process: <c>dotnet Autograd.Cli.dll</c>,
/// which the test project's reference to Autograd.Cli copies next to the test assembly.
/// </summary>
internal static class CliRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "Autograd.Cli.dll");

    /// <summary>The dotnet host the tests run on (the SDK tells child processes), else the one on PATH.</summary>
    public static string DotnetHost
        => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";

    /// <summary>Starts the CLI with stdout and stderr redirected and stdin closed (no prompt can hang it).</summary>
    public static Process Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, args);

    /// <summary>As <see cref="Start(string, string[])"/>, with extra environment variables.</summary>
    public static Process Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
        => StartProcess(DotnetHost, workingDirectory, environment, [CliDll, .. args]);

    /// <summary>Starts <paramref name="program"/> with stdout and stderr redirected (UTF-8), stdin closed and no colours.</summary>
    public static Process StartProcess(string program, string workingDirectory, IReadOnlyDictionary<string, string>? environment, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        process.StandardInput.Close();
        return process;
    }

    public static CliResult Run(string workingDirectory, params string[] args) => Run(workingDirectory, null, args);

    /// <summary>Runs the CLI to the end with extra environment variables.</summary>
    public static CliResult Run(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = Start(workingDirectory, environment, args);
        return WaitFor(process, Timeout, $"autograd {string.Join(' ', args)}");
    }

    /// <summary>Collects a started process's output; fails the test (killing the process tree) if it runs past <paramref name="timeout"/>.</summary>
    public static CliResult WaitFor(Process process, TimeSpan timeout, string what)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{what} did not finish within {timeout.TotalSeconds} s (hang).");
        }
        process.WaitForExit(); // drains the redirected streams
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
