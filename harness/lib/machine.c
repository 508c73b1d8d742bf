/* machine.c - describe the machine and the versions; see machine.h. */
#include "machine.h"

#include <curl/curl.h>
#include <microhttpd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"

/* The first "model name" line of /proc/cpuinfo (x86); other architectures
 * name it differently, so a few keys are tried. */
static void cpu_model(char *model, size_t size)
{
    snprintf(model, size, "unknown");
    FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
    if (cpuinfo == NULL)
        return;
    const char *keys[] = { "model name", "Model", "cpu model", "Processor" };
    char line[512];
    while (fgets(line, sizeof line, cpuinfo) != NULL) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            size_t length = strlen(keys[i]);
            char *colon = strchr(line, ':');
            if (strncmp(line, keys[i], length) != 0 || colon == NULL)
                continue;
            char *value = colon + 1;
            value += strspn(value, " \t");
            value[strcspn(value, "\n")] = '\0';
            snprintf(model, size, "%s", value);
            fclose(cpuinfo);
            return;
        }
    }
    fclose(cpuinfo);
}

json_t *machine_describe(void)
{
    char model[256];
    cpu_model(model, sizeof model);
    struct utsname name;
    char kernel[512] = "unknown";
    if (uname(&name) == 0)
        snprintf(kernel, sizeof kernel, "%s %s %s", name.sysname, name.release, name.machine);
    long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    long memory_mb = pages > 0 && page_size > 0 ? (long)((double)pages * page_size / 1048576) : 0;
    return json_pack("{s:s, s:i, s:s, s:I}", "cpu", model,
                     "cores", (int)sysconf(_SC_NPROCESSORS_ONLN), "kernel", kernel,
                     "memory_mb", (json_int_t)memory_mb);
}

/* "hyperfine 1.15.0" -> "1.15.0". */
static void hyperfine_version(char *version, size_t size)
{
    snprintf(version, size, "unknown");
    char *out = NULL;
    char *const argv[] = { "hyperfine", "--version", NULL };
    if (launch_capture("bench", argv, &out, NULL) == 0) {
        char line[128];
        launch_last_line(out, line, sizeof line);
        const char *space = strrchr(line, ' ');
        snprintf(version, size, "%s", space ? space + 1 : line);
    }
    free(out);
}

json_t *machine_versions(void)
{
    char hyperfine[128];
    hyperfine_version(hyperfine, sizeof hyperfine);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}",
                     "libcurl", curl_version_info(CURLVERSION_NOW)->version,
                     "libmicrohttpd", MHD_get_version(),
                     "sqlite", sqlite3_libversion(),
                     "jansson", jansson_version_str(),
                     "hyperfine", hyperfine);
}

long machine_proc_status(pid_t pid, const char *name)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return -1;
    long value = -1;
    size_t length = strlen(name);
    while (fgets(line, sizeof line, file) != NULL)
        if (strncmp(line, name, length) == 0 && line[length] == ':') {
            value = strtol(line + length + 1, NULL, 10);
            break;
        }
    fclose(file);
    return value;
}

void machine_date_now(char *text, size_t size)
{
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(text, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}
