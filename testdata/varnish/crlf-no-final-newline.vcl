vcl 4.1;
backend default {
    .host = "127.0.0.1";
    .port = "8080";
}
acl local { "127.0.0.1"; }
sub vcl_recv { if (client.ip ~ local) { return (pass); } }