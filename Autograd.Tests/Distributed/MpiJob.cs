using System.Diagnostics;
using System.Globalization;
using Autograd.Distributed;
using Autograd.Tests.Cli;

namespace Autograd.Tests.Distributed;

/// <summary>
/// Starts <c>mpiexec</c> (MPICH's hydra) on localhost for the distributed tests, and says why they
/// are skipped where MPI is missing (CI installs MPICH, see .ci/run, so there they always run).
/// </summary>
internal static class MpiJob
{
    /// <summary>A hung job is ended by mpiexec itself after this long (MPIEXEC_TIMEOUT), and by the test after a little more.</summary>
    public const int TimeoutSeconds = 150;

    private static readonly Lazy<string?> s_mpiexec = new(() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "mpiexec")).FirstOrDefault(File.Exists));

    /// <summary>Why MPI tests cannot run here, or null.</summary>
    public static string? MissingReason
    {
        get
        {
            if (!OperatingSystem.IsLinux()) return "MPI tests run on Linux only (MPICH ABI)";
            if (s_mpiexec.Value is null) return "mpiexec is not on PATH: install MPICH (apt-get install mpich) to run the distributed tests";
            if (!MpiCommunicator.TryLoadLibrary(out string? reason)) return $"{MpiCommunicator.LibraryName} cannot be loaded ({reason}): install MPICH (apt-get install mpich)";
            return null;
        }
    }

    /// <summary>Marks the test skipped, with the reason, when MPI is missing.</summary>
    public static void RequireMpi()
    {
        if (MissingReason is { } reason) Assert.Ignore(reason);
    }

    /// <summary>
    /// Starts <c>mpiexec</c> with the given groups, each <c>(ranks, program dll, arguments)</c>
    /// (several groups make an MPMD job, separated by <c>:</c>), output redirected.
    /// </summary>
    public static Process Start(string workingDirectory, params (int Ranks, string Dll, string[] Args)[] groups)
    {
        var args = new List<string>();
        foreach (var (ranks, dll, rest) in groups)
        {
            if (args.Count > 0) args.Add(":");
            args.AddRange(["-n", ranks.ToString(CultureInfo.InvariantCulture), CliRunner.DotnetHost, dll, .. rest]);
        }
        var environment = new Dictionary<string, string> { ["MPIEXEC_TIMEOUT"] = TimeoutSeconds.ToString(CultureInfo.InvariantCulture) };
        return CliRunner.StartProcess(s_mpiexec.Value ?? "mpiexec", workingDirectory, environment, args);
    }

    /// <summary>Runs a job to the end and returns what it printed.</summary>
    public static CliResult Run(string workingDirectory, params (int Ranks, string Dll, string[] Args)[] groups)
    {
        using var process = Start(workingDirectory, groups);
        return CliRunner.WaitFor(process, TimeSpan.FromSeconds(TimeoutSeconds + 30), "mpiexec");
    }

    /// <summary>Runs the CLI on <paramref name="ranks"/> ranks: <c>mpiexec -n N dotnet Autograd.Cli.dll args</c>.</summary>
    public static CliResult RunCli(string workingDirectory, int ranks, params string[] args)
        => Run(workingDirectory, (ranks, CliRunner.CliDll, args));

    /// <summary>The pid of each rank of a running job, found through /proc: descendants of mpiexec with PMI_RANK set.</summary>
    public static Dictionary<int, int> RankPids(Process mpiexec)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                // /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces, so parse after the last ')'.
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(rest[1], CultureInfo.InvariantCulture);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        bool Descends(int pid)
        {
            for (int p = pid, guard = 0; p > 1 && guard < 64; guard++)
            {
                if (!parents.TryGetValue(p, out int parent)) return false;
                if (parent == mpiexec.Id) return true;
                p = parent;
            }
            return false;
        }
        var ranks = new Dictionary<int, int>();
        foreach (int pid in parents.Keys.Where(Descends))
        {
            try
            {
                foreach (string entry in File.ReadAllText($"/proc/{pid}/environ").Split('\0'))
                    if (entry.StartsWith("PMI_RANK=", StringComparison.Ordinal) && int.TryParse(entry[9..], out int rank))
                        ranks[rank] = pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return ranks;
    }
}
