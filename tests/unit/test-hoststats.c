/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host statistics (src/xen/xv-hoststats.c): the guest-disk-name → devid rules (table-driven),
 * the sysfs and /proc/net/dev parsers on trees written into a temporary root, and the files
 * xensim keeps under DIR/root for its running domains.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "tests.h"
#include "xsim-launch.h"
#include "xv-fileio.h"
#include "xv-hoststats.h"

TEST(disk_devid) {
        static const struct {
                const char *name;
                int devid;      /* -1 = rejected */
        } cases[] = {
                /* xvd, 202 << 8 | disk << 4 | part */
                { "xvda", 51712 }, { "/dev/xvda", 51712 }, { "xvda1", 51713 }, { "xvdb", 51728 },
                { "xvdp15", 51967 },
                /* beyond xvdp, or a partition beyond 15: the extended scheme */
                { "xvdq", (1 << 28) | (16 << 8) }, { "xvdq1", (1 << 28) | (16 << 8) | 1 },
                { "xvdz", (1 << 28) | (25 << 8) }, { "xvdaa", (1 << 28) | (26 << 8) },
                { "xvdzz", (1 << 28) | (701 << 8) }, { "xvda16", (1 << 28) | 16 },
                { "xvdb255", (1 << 28) | (1 << 8) | 255 },
                /* IDE: two disks per major, 64 minors each */
                { "hda", 768 }, { "hda1", 769 }, { "hda63", 831 }, { "hdb", 832 }, { "hdc", 5632 },
                { "/dev/hdd2", 5698 }, { "hde", 33 << 8 }, { "hdg", 34 << 8 }, { "hdi", 56 << 8 },
                { "hdk", 57 << 8 }, { "hdm", 88 << 8 }, { "hdo", 89 << 8 }, { "hdq", 90 << 8 },
                { "hdt", (91 << 8) | 64 },
                /* SCSI: 16 disks per major, 16 minors each */
                { "sda", 2048 }, { "sdb1", 2065 }, { "sdp", 2288 }, { "sdq", 65 << 8 },
                { "sdz", (65 << 8) | 144 }, { "sdaa", (65 << 8) | 160 }, { "sdaf15", (65 << 8) | 255 },
                { "sdag", 66 << 8 }, { "sddx", (71 << 8) | 240 }, { "sddy", 128 << 8 },
                { "sdiv", (135 << 8) | 240 },
                /* rejected */
                { "xvd", -1 }, { "xvdA", -1 }, { "vda", -1 }, { "xvda0", -1 }, { "xvda01", -1 },
                { "xvd1", -1 }, { "xvdaaa", -1 }, { "xvda256", -1 }, { "xvda-1", -1 }, { "xvda 1", -1 },
                { "hdu", -1 }, { "hdaa", -1 }, { "hda64", -1 }, { "sda16", -1 }, { "sdiw", -1 },
                { "/dev/", -1 }, { "", -1 }, { "/dev/dev/xvda", -1 }, { "dev/xvda", -1 }, { "xvda1x", -1 },
        };
        int devid;

        ASSERT_ERROR(hoststats_disk_devid(NULL, &devid), EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r;

                devid = -2;
                r = hoststats_disk_devid(cases[i].name, &devid);
                if (cases[i].devid < 0) {
                        if (r != -EINVAL)
                                test_fail(__FILE__, __LINE__, "'%s' accepted as %d", cases[i].name, devid);
                        continue;
                }
                if (r < 0 || devid != cases[i].devid)
                        test_fail(__FILE__, __LINE__, "'%s': %d, expected %d (r=%d)", cases[i].name, devid,
                                  cases[i].devid, r);
        }
}

static void write_rooted(const char *root, const char *rel, const char *text) {
        _cleanup_free_ char *path = NULL, *cmd = NULL;
        char *slash;

        ASSERT_TRUE(asprintf(&path, "%s/%s", root, rel) >= 0);
        /* mkdir -p of the parent */
        for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                ASSERT_TRUE(mkdir(path, 0755) == 0 || errno == EEXIST);
                *slash = '/';
        }
        ASSERT_OK(write_file_atomic(path, text, strlen(text), 0644));
}

static void stats_dir(const char *root, const char *base, const char *kind, int domid, int devid, const char *file,
                      const char *value) {
        _cleanup_free_ char *rel = NULL;

        ASSERT_TRUE(asprintf(&rel, "%s/%s-%d-%d/statistics/%s", base, kind, domid, devid, file) >= 0);
        write_rooted(root, rel, value);
}

TEST(block_stats_from_sysfs) {
        static const char *const bus = "sys/bus/xen-backend/devices", *const devs = "sys/devices/xen-backend";
        char root[] = "/tmp/xv-x2-stats-XXXXXX";
        XvError error = XV_ERROR_NULL;
        HvBlockStats s;

        ASSERT_NOT_NULL(mkdtemp(root));
        stats_dir(root, bus, "vbd", 3, 51712, "rd_req", "10\n");
        stats_dir(root, bus, "vbd", 3, 51712, "rd_sect", "20\n");
        stats_dir(root, bus, "vbd", 3, 51712, "wr_req", "30\n");
        stats_dir(root, bus, "vbd", 3, 51712, "wr_sect", "40\n");
        stats_dir(root, bus, "vbd", 3, 51712, "oo_req", "1\n");

        ASSERT_OK(hoststats_block_by_path(root, 3, "xvda", &s, NULL));
        ASSERT_EQ(s.rd_req, 10);
        ASSERT_EQ(s.rd_bytes, 20 * 512);
        ASSERT_EQ(s.wr_req, 30);
        ASSERT_EQ(s.wr_bytes, 40 * 512);
        ASSERT_EQ(s.errs, 1);

        /* blktap under the fallback directory; a missing counter is unknown (-1). */
        stats_dir(root, devs, "tap", 4, 768, "rd_req", "7");
        stats_dir(root, devs, "tap", 4, 768, "wr_sect", "9\n");
        ASSERT_OK(hoststats_block_by_path(root, 4, "/dev/hda", &s, NULL));
        ASSERT_EQ(s.rd_req, 7);
        ASSERT_EQ(s.rd_bytes, -1);
        ASSERT_EQ(s.wr_req, -1);
        ASSERT_EQ(s.wr_bytes, 9 * 512);
        ASSERT_EQ(s.errs, -1);

        /* Nothing at all: "no stats in this Xen". */
        ASSERT_ERROR(hoststats_block_by_path(root, 3, "xvdb", &s, &error), ENOENT);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_FAILED);
        ASSERT_NOT_NULL(strstr(error.message, "no stats in this Xen"));
        xv_error_done(&error);

        /* Not a disk name. */
        ASSERT_ERROR(hoststats_block_by_path(root, 3, "vda", &s, &error), EINVAL);
        ASSERT_EQ(error.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&error);

        /* Strict numbers, bounded values. */
        stats_dir(root, bus, "vbd", 5, 51712, "rd_req", "12a\n");
        ASSERT_ERROR(hoststats_block(root, 5, 51712, &s, &error), EBADMSG);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_FAILED);
        xv_error_done(&error);
        stats_dir(root, bus, "vbd", 6, 51712, "rd_sect", "18014398509481984\n");  /* 2^54: bytes overflow */
        ASSERT_ERROR(hoststats_block(root, 6, 51712, &s, NULL), ERANGE);
        stats_dir(root, bus, "vbd", 7, 51712, "rd_req", " 5\n");
        ASSERT_ERROR(hoststats_block(root, 7, 51712, &s, NULL), EBADMSG);
        stats_dir(root, bus, "vbd", 8, 51712, "rd_req", "1234567890123456789012345678901234567890123456789012345678901234567890\n");
        ASSERT_TRUE(hoststats_block(root, 8, 51712, &s, NULL) < 0);       /* larger than the file limit */

        ASSERT_ERROR(hoststats_block(root, -1, 51712, &s, NULL), EINVAL);
        test_rm_rf(root);
}

static const char net_dev[] =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
        "    lo:  123456    1234    0    0    0     0          0         0   123456    1234    0    0    0     0       0          0\n"
        "vif3.0:    1000      10    1    2    0     0          0         0     5000      50    3    4    0     0       0          0\n"
        "vif3.01:      7       7    7    7    7     7          7         7        7       7    7    7    7     7       7          7\n"
        "vif12.3: 18446744073709551615 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        "vif13.0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
        "vif14.0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
        "vif15.0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n";

TEST(net_dev_parse) {
        HvInterfaceStats s;

        ASSERT_OK(hoststats_parse_net_dev(net_dev, strlen(net_dev), "vif3.0", &s));
        /* Host side: what the host receives, the guest sent. */
        ASSERT_EQ(s.tx_bytes, 1000);
        ASSERT_EQ(s.tx_packets, 10);
        ASSERT_EQ(s.tx_errs, 1);
        ASSERT_EQ(s.tx_drop, 2);
        ASSERT_EQ(s.rx_bytes, 5000);
        ASSERT_EQ(s.rx_packets, 50);
        ASSERT_EQ(s.rx_errs, 3);
        ASSERT_EQ(s.rx_drop, 4);

        ASSERT_OK(hoststats_parse_net_dev(net_dev, strlen(net_dev), "vif3.01", &s));
        ASSERT_EQ(s.rx_bytes, 7);
        ASSERT_ERROR(hoststats_parse_net_dev(net_dev, strlen(net_dev), "vif3.1", &s), ENOENT);
        ASSERT_ERROR(hoststats_parse_net_dev(net_dev, strlen(net_dev), "vif12.3", &s), EINVAL);  /* > INT64_MAX */
        ASSERT_ERROR(hoststats_parse_net_dev(net_dev, strlen(net_dev), "vif13.0", &s), EINVAL);  /* 15 fields */
        ASSERT_ERROR(hoststats_parse_net_dev(net_dev, strlen(net_dev), "vif14.0", &s), EINVAL);  /* 17 fields */
        ASSERT_ERROR(hoststats_parse_net_dev(net_dev, strlen(net_dev), "vif15.0", &s), EINVAL);  /* sign */
        ASSERT_ERROR(hoststats_parse_net_dev(net_dev, strlen(net_dev), "", &s), EINVAL);
        /* A truncated buffer ends the last line where it ends. */
        ASSERT_ERROR(hoststats_parse_net_dev(net_dev, 10, "vif3.0", &s), ENOENT);
        ASSERT_ERROR(hoststats_parse_net_dev("vif3.0: 1\0 2", 12, "vif3.0", &s), EINVAL);
}

TEST(interface_stats_from_root) {
        char root[] = "/tmp/xv-x2-net-XXXXXX";
        XvError error = XV_ERROR_NULL;
        HvInterfaceStats s;

        ASSERT_NOT_NULL(mkdtemp(root));
        ASSERT_ERROR(hoststats_interface(root, 3, "vif3.0", &s, &error), ENOENT);      /* no file */
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_FAILED);
        xv_error_done(&error);

        write_rooted(root, "proc/net/dev", net_dev);
        ASSERT_OK(hoststats_interface(root, 3, "vif3.0", &s, NULL));
        ASSERT_EQ(s.rx_bytes, 5000);
        ASSERT_ERROR(hoststats_interface(root, 3, "vif3.1", &s, &error), ENOENT);
        ASSERT_EQ(error.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&error);

        /* The name must be vif<this domid>.<n>. */
        ASSERT_ERROR(hoststats_interface(root, 4, "vif3.0", &s, &error), EINVAL);
        ASSERT_EQ(error.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&error);
        ASSERT_ERROR(hoststats_interface(root, 3, "eth0", &s, NULL), EINVAL);
        ASSERT_ERROR(hoststats_interface(root, 3, "vif3.", &s, NULL), EINVAL);
        ASSERT_ERROR(hoststats_interface(root, 3, "vif03.0", &s, NULL), EINVAL);
        ASSERT_ERROR(hoststats_interface(root, 3, "vif3.0x", &s, NULL), EINVAL);
        ASSERT_ERROR(hoststats_interface(root, 3, "vif.0", &s, NULL), EINVAL);
        ASSERT_ERROR(hoststats_interface(root, 3, NULL, &s, NULL), EINVAL);
        test_rm_rf(root);
}

TEST(against_xensim) {
        _cleanup_free_ char *root = NULL, *ifname = NULL;
        HvBlockStats b = {};
        HvInterfaceStats s = {};
        uint64_t deadline;
        XsimInstance x;
        int id, r;

        xsim_start(&x, NULL);
        root = xsim_path(&x, "root");
        id = xsim_create_domain(&x, "guest1", 64, 1);

        /* xensim rewrites its host files from a deferred event: wait for them. */
        deadline = xsim_now_ms() + 5000;
        do {
                r = hoststats_block_by_path(root, id, "xvda", &b, NULL);
                if (r < 0)
                        (void) usleep(50 * 1000);
        } while (r < 0 && xsim_now_ms() < deadline);
        ASSERT_OK(r);
        /* Its counters are domid * 1000 + device * 100 + counter * 10 + cpu ms, for counters
         * rd_req=1, rd_sect=2, wr_req=3, wr_sect=4; oo_req stays 0. */
        ASSERT_GE(b.rd_req, (int64_t) id * 1000 + 10);
        ASSERT_EQ(b.rd_bytes, (b.rd_req + 10) * 512);
        ASSERT_EQ(b.wr_req, b.rd_req + 20);
        ASSERT_EQ(b.wr_bytes, (b.rd_req + 30) * 512);
        ASSERT_EQ(b.errs, 0);
        ASSERT_ERROR(hoststats_block_by_path(root, id, "xvdb", &b, NULL), ENOENT);

        ASSERT_TRUE(asprintf(&ifname, "vif%d.0", id) >= 0);
        deadline = xsim_now_ms() + 5000;
        do {
                r = hoststats_interface(root, id, ifname, &s, NULL);
                if (r < 0)
                        (void) usleep(50 * 1000);
        } while (r < 0 && xsim_now_ms() < deadline);
        ASSERT_OK(r);
        /* Host rx = counter 1 (x1000 bytes), rx packets = 2, tx = 3 (x1000), tx packets = 4; the
         * guest's view swaps them. */
        ASSERT_EQ(s.rx_bytes - s.tx_bytes, 20 * 1000);
        ASSERT_EQ(s.rx_packets - s.tx_packets, 20);
        ASSERT_EQ(s.tx_bytes, (s.tx_packets - 10) * 1000);
        ASSERT_EQ(s.rx_errs, 0);
        ASSERT_EQ(s.tx_drop, 0);

        /* The domain goes, and so do its statistics. */
        ASSERT_EQ(xsim_ctl(&x, NULL, "domain destroy guest1"), 0);
        deadline = xsim_now_ms() + 5000;
        do {
                r = hoststats_block_by_path(root, id, "xvda", &b, NULL);
                if (r >= 0)
                        (void) usleep(50 * 1000);
        } while (r >= 0 && xsim_now_ms() < deadline);
        ASSERT_ERROR(r, ENOENT);

        xsim_stop(&x);
}

DEFINE_TEST_MAIN
