vcl 4.1;
include "acls.vcl";
backend default { .host = "127.0.0.1"; .port = "8081"; }
sub vcl_recv {
    if (req.method == "BAN" && client.ip ~ banners) { return (synth(200, "Banned")); }
    if (client.ip ~ local) { return (pass); }
}
